#include "net/node_list.h"

#include <algorithm>
#include <map>

#include "net/endpoint.h"
#include "net/keys.h"

namespace dstk::net {
namespace {

constexpr size_t kMaxDomainLength = 64;
constexpr size_t kMaxUnits = 4096;

// A domain is a label an operator types: printable ASCII without spaces, commas or '='.
bool IsDomainName(const std::string& d) {
  if (d.empty() || d.size() > kMaxDomainLength) return false;
  return std::all_of(d.begin(), d.end(), [](char ch) {
    return ch > ' ' && ch < 0x7f && ch != ',' && ch != '=' && ch != '#';
  });
}

std::vector<std::string> Words(const std::string& item) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = item.find_first_not_of(" \t", at)) != std::string::npos) {
    const size_t end = item.find_first_of(" \t", at);
    out.push_back(item.substr(at, end == std::string::npos ? std::string::npos : end - at));
    at = end;
  }
  return out;
}

}  // namespace

bool IsUnitId(const std::string& id) {
  return id.size() == 16 && std::all_of(id.begin(), id.end(), [](char ch) {
           return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f');
         });
}

std::string NodeEntry::ToLine() const {
  std::string line = endpoint;
  if (!server_key.empty()) line += " " + server_key;
  if (!id.empty()) line += " id=" + id;
  if (!domain.empty()) line += " domain=" + domain;
  if (leaving) line += " leaving";
  return line;
}

Result<NodeEntry> ParseNodeEntry(const std::string& item) {
  const std::vector<std::string> words = Words(item);
  if (words.empty()) return Status::Invalid("empty entry");
  auto endpoint = ParseEndpoint(words[0], EndpointUse::kConnect);
  if (!endpoint.ok()) return endpoint.status();
  NodeEntry e;
  e.endpoint = endpoint->ToString();
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    auto twice = [&](const std::string& what) {
      return Status::Invalid("'" + w + "' after " + e.endpoint + ": " + what + " given twice");
    };
    if (w.rfind("id=", 0) == 0) {
      if (!e.id.empty()) return twice("id=");
      e.id = w.substr(3);
      if (!IsUnitId(e.id))
        return Status::Invalid("'" + w + "' after " + e.endpoint +
                               ": a unit id is 16 lowercase hex digits (as dsenc nodes prints)");
    } else if (w.rfind("domain=", 0) == 0) {
      if (!e.domain.empty()) return twice("domain=");
      e.domain = w.substr(7);
      if (!IsDomainName(e.domain))
        return Status::Invalid("'" + w + "' after " + e.endpoint +
                               ": a domain is 1 to 64 printable characters without spaces, "
                               "',', '=' or '#'");
    } else if (w == "leaving") {
      if (e.leaving) return twice("leaving");
      e.leaving = true;
    } else if (IsZ85Key(w)) {
      if (!e.server_key.empty()) return twice("a public key");
      e.server_key = w;
    } else {
      return Status::Invalid("'" + w + "' after " + e.endpoint +
                             " is not a Z85 public key, id=, domain= or leaving");
    }
  }
  return e;
}

Result<std::vector<NodeEntry>> ParseNodeEntries(const std::string& text, char separator) {
  std::vector<NodeEntry> out;
  // Every name each listed unit is reached under, and where it was listed: one unit listed
  // twice would hold two pillars of every object, so the object would have less redundancy
  // than its n says.
  std::map<std::string, std::string> listed;
  const std::string what = separator == '\n' ? "line " : "item ";
  size_t start = 0;
  for (size_t number = 1; start <= text.size(); ++number) {
    size_t end = text.find(separator, start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    start = end + 1;
    // Comments are whole lines: '#' is also a digit of Z85 keys.
    if (const size_t first = item.find_first_not_of(" \t\r\n");
        first != std::string::npos && item[first] == '#') {
      item.clear();
    }
    const size_t b = item.find_first_not_of(" \t\r\n");
    const size_t e = item.find_last_not_of(" \t\r\n");
    item = b == std::string::npos ? "" : item.substr(b, e - b + 1);
    if (item.empty()) continue;
    const std::string where = what + std::to_string(number);
    auto entry = ParseNodeEntry(item);
    if (!entry.ok()) return entry.status().With(where);
    auto endpoint = ParseEndpoint(entry->endpoint, EndpointUse::kConnect);
    std::vector<std::string> names = AddressesOf(*endpoint);
    if (!entry->server_key.empty()) names.push_back("key " + entry->server_key);
    if (!entry->id.empty()) names.push_back("id " + entry->id);
    for (const std::string& name : names) {
      auto [at, fresh] = listed.emplace(name, where);
      if (!fresh) {
        return Status::Invalid(where + " (" + entry->endpoint + ") names the same unit as " +
                               at->second + " (" + name + "): list each unit once");
      }
    }
    out.push_back(std::move(entry).value());
    if (out.size() > kMaxUnits)
      return Status::Invalid("more than " + std::to_string(kMaxUnits) + " units in the node list");
  }
  if (out.empty()) return Status::Invalid("the node list is empty");
  return out;
}

Result<std::vector<std::string>> ParseNodeList(const std::string& text, char separator) {
  auto entries = ParseNodeEntries(text, separator);
  if (!entries.ok()) return entries.status();
  std::vector<std::string> out;
  out.reserve(entries->size());
  for (const NodeEntry& e : *entries) out.push_back(e.ToLine());
  return out;
}

}  // namespace dstk::net
