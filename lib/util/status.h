// Status and Result: how every fallible call in lib/ reports failure.
//
// A Status is a code plus a human-readable message. The codes are chosen so that a tool can
// map them one-to-one onto the documented exit codes (see exit_code.h), so a library error
// never has to be re-interpreted by a front end. lib/ never prints; it returns these.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace dstk {

enum class Code {
  kOk = 0,
  kNotFound,         // no such object, empty queue, nothing to do
  kInvalidArgument,  // bad usage or bad input from the user
  kUnavailable,      // not enough units answered (below k, w or q)
  kCorruption,       // integrity: CRC mismatch, mixed revisions, malformed data
  kIoError,          // local I/O or system error
  kConflict,         // lost a race (a lock held by another, a fenced write)
  kLimit,            // a configured limit was exceeded (frame size, name length, disk full)
  kFenced,           // a write carried a claim token lower than one already stored
  kForbidden,        // the client's key lacks the right for the op (the unit's allow-list)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Invalid(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Corruption(std::string m) { return {Code::kCorruption, std::move(m)}; }
  static Status IoError(std::string m) { return {Code::kIoError, std::move(m)}; }
  static Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
  static Status Limit(std::string m) { return {Code::kLimit, std::move(m)}; }
  static Status Fenced(std::string m) { return {Code::kFenced, std::move(m)}; }
  static Status Forbidden(std::string m) { return {Code::kForbidden, std::move(m)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context ("unit 3 (tcp://...)") to the message, keeping the code.
  Status With(const std::string& context) const {
    if (ok()) return *this;
    return {code_, context + ": " + message_};
  }

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace dstk

// Returns early from the enclosing function when `expr` yields a non-ok Status.
#define DSTK_RETURN_IF_ERROR(expr)               \
  do {                                           \
    ::dstk::Status dstk_status_ = (expr);        \
    if (!dstk_status_.ok()) return dstk_status_; \
  } while (0)
