#include "wire/name.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "wire/limits.h"

namespace dstk::wire {
namespace {

// The length of the well-formed UTF-8 sequence (RFC 3629) that starts `s`, or 0: overlong
// forms, UTF-16 surrogates (U+D800..U+DFFF), code points past U+10FFFF and sequences cut short
// are not well-formed. `cp` gets the code point.
size_t Utf8Sequence(std::string_view s, uint32_t& cp) {
  const auto b = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char c = b(0);
  size_t len = 0;
  uint32_t min = 0;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2, cp = c & 0x1fu, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3, cp = c & 0x0fu, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4, cp = c & 0x07u, min = 0x10000;
  } else {
    return 0;  // a continuation byte first, or 0xf8..0xff
  }
  if (s.size() < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((b(i) & 0xc0) != 0x80) return 0;
    cp = cp << 6 | (b(i) & 0x3fu);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

// Names are UTF-8 text without control characters: safe to print, to put in JSON and to use
// as a path on a unit (docs/decisions.md). Anything else is refused where it enters.
Status CheckBytes(std::string_view s, const char* what) {
  if (s.size() > kMaxNameLength) {
    return Status::Invalid(std::string(what) + " is " + std::to_string(s.size()) +
                           " bytes; the limit is " + std::to_string(kMaxNameLength));
  }
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t len = Utf8Sequence(s.substr(i), cp);
    if (len == 0) {
      return Status::Invalid(std::string(what) + " is not valid UTF-8 (at byte " +
                             std::to_string(i) + "): names are UTF-8 text");
    }
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f)) {
      return Status::Invalid(std::string(what) + " contains a control character or NUL (at byte " +
                             std::to_string(i) + ")");
    }
    i += len;
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

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
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

std::optional<std::string_view> QueueOf(std::string_view name) {
  const size_t slash = name.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return std::nullopt;
  const std::string_view key = name.substr(slash + 1);
  if (key.size() != 25 || key[16] != '-' || !IsLowerHex(key.substr(0, 16)) ||
      !IsLowerHex(key.substr(17))) {
    return std::nullopt;
  }
  return name.substr(0, slash);
}

size_t LaneOf(std::string_view name, size_t lanes) {
  uint64_t h = 0xcbf29ce484222325;
  for (const char c : name) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3;
  }
  return static_cast<size_t>(h % std::max<size_t>(lanes, 1));
}

}  // namespace dstk::wire
