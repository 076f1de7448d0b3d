#include "claim/function.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <random>

#include "wire/msgpack_fields.h"
#include "wire/name.h"

namespace dstk::claim {
namespace {

using wire::mp::ForEachField;
using wire::mp::ReadString;
using wire::mp::ReadU32;
using wire::mp::ReadU64;

void PackStrings(wire::mp::Packer& p, const std::vector<std::string>& v) {
  p.pack_array(static_cast<uint32_t>(v.size()));
  for (const auto& s : v) p.pack(s);
}

Status ReadStrings(const msgpack::object& o, std::string_view key, std::vector<std::string>& out) {
  if (o.type != msgpack::type::ARRAY)
    return Status::Invalid("field '" + std::string(key) + "' must be an array");
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    std::string s;
    DSTK_RETURN_IF_ERROR(ReadString(o.via.array.ptr[i], key, s));
    out.push_back(std::move(s));
  }
  return Status::Ok();
}

}  // namespace

std::string EncodeFunction(const Function& f) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  const bool signed_ = !f.signature.empty();
  p.pack_map(signed_ ? 12 : 10);
  p.pack("type"), p.pack("function");
  p.pack("argv"), PackStrings(p, f.argv);
  p.pack("in"), PackStrings(p, f.inputs);
  p.pack("out"), p.pack(f.output);
  p.pack("timeout_s"), p.pack(f.timeout_s);
  p.pack("attempts"), p.pack(f.attempts);
  p.pack("attempt"), p.pack(f.attempt);
  p.pack("producer"), p.pack(f.producer);
  p.pack("pushed_us"), p.pack(f.pushed_us);
  p.pack("reason"), p.pack(f.reason);
  if (signed_) {
    p.pack("signer"), p.pack(f.signer);
    p.pack("sig"), p.pack(f.signature);
  }
  return std::string(buf.data(), buf.size());
}

Result<Function> DecodeFunction(std::span<const uint8_t> bytes) {
  auto oh = wire::mp::UnpackBounded(bytes);
  if (!oh.ok()) return Status::Corruption("function record: " + oh.status().message());
  Function f;
  std::string type;
  Status st = ForEachField(oh->get(), [&](std::string_view key, const msgpack::object& v) {
    if (key == "type") return ReadString(v, key, type);
    if (key == "argv") return ReadStrings(v, key, f.argv);
    if (key == "in") return ReadStrings(v, key, f.inputs);
    if (key == "out") return ReadString(v, key, f.output);
    if (key == "timeout_s") return ReadU32(v, key, f.timeout_s);
    if (key == "attempts") return ReadU32(v, key, f.attempts);
    if (key == "attempt") return ReadU32(v, key, f.attempt);
    if (key == "producer") return ReadString(v, key, f.producer);
    if (key == "pushed_us") return ReadU64(v, key, f.pushed_us);
    if (key == "reason") return ReadString(v, key, f.reason);
    if (key == "signer") return ReadString(v, key, f.signer);
    if (key == "sig") return ReadString(v, key, f.signature);
    return Status::Ok();
  });
  if (!st.ok()) return Status::Corruption("function record: " + st.message());
  if (type != "function") return Status::Corruption("not a function record");
  if (f.argv.empty() || f.argv.front().empty())
    return Status::Corruption("function record has no command");
  for (const auto& in : f.inputs) {
    if (!wire::ValidateName(in).ok())
      return Status::Corruption("function input has a bad name: " + in);
  }
  if (!f.output.empty() && !wire::ValidateName(f.output).ok()) {
    return Status::Corruption("function output has a bad name: " + f.output);
  }
  return f;
}

KeyGenerator::KeyGenerator() {
  std::random_device rd;
  producer_ = rd();
}

std::string KeyGenerator::Next(const std::string& queue) {
  const auto now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  last_us_ = std::max(now, last_us_ + 1);
  char buf[40];
  std::snprintf(buf, sizeof buf, "/%016" PRIx64 "-%08" PRIx32, last_us_, producer_);
  return queue + buf;
}

}  // namespace dstk::claim
