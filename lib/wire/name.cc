#include "wire/name.h"

#include <string>

#include "wire/limits.h"

namespace dstk::wire {
namespace {

Status CheckBytes(std::string_view s, const char* what) {
  if (s.size() > kMaxNameLength) {
    return Status::Invalid(std::string(what) + " is " + std::to_string(s.size()) +
                           " bytes; the limit is " + std::to_string(kMaxNameLength));
  }
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      return Status::Invalid(std::string(what) + " contains a control character or NUL");
    }
  }
  return Status::Ok();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The unit's own file names (store/slice_store.h); an object's children must not look like them.
bool IsReserved(std::string_view comp) {
  return EndsWith(comp, ".slice") || EndsWith(comp, ".manifest") || EndsWith(comp, ".corrupt") ||
         EndsWith(comp, ".claim") || comp.substr(0, 5) == ".tmp.";
}

Status CheckComponents(std::string_view s, bool allow_trailing_slash, const char* what) {
  if (!s.empty() && s.front() == '/')
    return Status::Invalid(std::string(what) + " must not start with '/'");
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find('/', start);
    if (end == std::string_view::npos) end = s.size();
    std::string_view comp = s.substr(start, end - start);
    const bool last = end == s.size();
    if (comp.empty() && !(last && (allow_trailing_slash || s.empty()))) {
      return Status::Invalid(std::string(what) + " has an empty path component");
    }
    if (comp == "." || comp == "..") {
      return Status::Invalid(std::string(what) + " must not contain '.' or '..' components");
    }
    if (IsReserved(comp) && !(last && allow_trailing_slash)) {
      return Status::Invalid(std::string(what) + " component '" + std::string(comp) +
                             "' is reserved: components may not end in .slice, .manifest, "
                             ".corrupt or .claim, nor start with .tmp.");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Status ValidateName(std::string_view name) {
  if (name.empty()) return Status::Invalid("name is empty");
  DSTK_RETURN_IF_ERROR(CheckBytes(name, "name"));
  return CheckComponents(name, false, "name");
}

Status ValidatePrefix(std::string_view prefix) {
  if (prefix.empty()) return Status::Ok();
  DSTK_RETURN_IF_ERROR(CheckBytes(prefix, "prefix"));
  return CheckComponents(prefix, true, "prefix");
}

}  // namespace dstk::wire
