#include "node/allow_list.h"

#include <fstream>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "net/keys.h"
#include "util/text.h"
#include "wire/name.h"

namespace dstk::node {
namespace {

std::vector<std::string> Split(const std::string& s, const char* separators) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find_first_of(separators, start);
    out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

// Blank-separated fields, runs of blanks counting as one.
std::vector<std::string> Fields(const std::string& line) {
  std::vector<std::string> out;
  for (auto& f : Split(line, " \t")) {
    if (!f.empty()) out.push_back(std::move(f));
  }
  return out;
}

Status UnknownRight(const std::string& name) {
  std::string msg =
      "unknown right '" + name + "' (the rights: read, write, delete, push, claim, admin, all)";
  if (name == "stat") msg += "; a stat of a name is covered by read";
  return Status::Invalid(msg);
}

// One GRANT field ("read,write=photos/") applied to `rights`; `given` holds the (right, scope)
// pairs granted so far on the line ("" for everywhere), to refuse one given twice.
Status ApplyGrant(const std::string& field, Rights& rights,
                  std::set<std::pair<Right, std::string>>& given) {
  const size_t eq = field.find('=');
  const std::string list = field.substr(0, eq);
  const bool scoped = eq != std::string::npos;
  const std::string scope = scoped ? field.substr(eq + 1) : "";
  if (list.empty()) return Status::Invalid("'" + field + "' names no right before '='");
  if (scoped && scope.empty()) return Status::Invalid("'" + field + "' has an empty scope");
  std::vector<Right> named;
  for (const auto& name : Split(list, ",")) {
    if (name.empty()) return Status::Invalid("'" + field + "' has an empty right");
    if (name == "all") return Status::Invalid("all is a line's only grant, without a scope");
    const auto r = RightFromName(name);
    if (!r) return UnknownRight(name);
    for (Right seen : named) {
      if (seen == *r) return Status::Invalid("'" + field + "' names " + name + " twice");
    }
    named.push_back(*r);
  }
  if (scoped) {
    const bool queues = IsQueueRight(named.front());
    for (Right r : named) {
      if (r == Right::kAdmin) return Status::Invalid("admin takes no scope ('" + field + "')");
      if (IsQueueRight(r) != queues) {
        return Status::Invalid("'" + field +
                               "' mixes name rights (read, write, delete), whose scope is a "
                               "prefix, with queue rights (push, claim), whose scope is a queue");
      }
    }
    const Status valid = queues ? wire::ValidateName(scope) : wire::ValidatePrefix(scope);
    if (!valid.ok()) {
      return Status::Invalid("'" + scope + "' is no valid " + (queues ? "queue" : "prefix") + ": " +
                             valid.message());
    }
  }
  for (Right r : named) {
    const std::string what = std::string(RightName(r)) + (scoped ? "=" + scope : "");
    if (!given.emplace(r, scope).second) return Status::Invalid(what + " is granted twice");
    // Everywhere and within a scope: one of the two is a mistake, whichever was meant.
    const bool everywhere = given.count({r, ""}) > 0;
    size_t scopes = 0;
    for (const auto& [right, s] : given) scopes += right == r && !s.empty();
    if (everywhere && scopes > 0) {
      return Status::Invalid(std::string(RightName(r)) +
                             " is granted both everywhere and within a scope");
    }
    rights.Grant(r, scope);
  }
  return Status::Ok();
}

// The rights a line's fields after the key grant.
Result<Rights> ParseGrants(const std::vector<std::string>& fields) {
  if (fields.size() == 1) return Rights::All();
  if (fields[1] == "all") {
    if (fields.size() > 2) return Status::Invalid("all is a line's only grant");
    return Rights::All();
  }
  Rights rights;
  std::set<std::pair<Right, std::string>> given;
  for (size_t i = 1; i < fields.size(); ++i) {
    DSTK_RETURN_IF_ERROR(ApplyGrant(fields[i], rights, given));
  }
  return rights;
}

}  // namespace

Result<AllowList> ParseAllowList(std::string_view text, const std::string& source) {
  AllowList list;
  std::map<std::string, int> first_line;
  std::istringstream in{std::string(text)};
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    const std::string line = Trim(raw);
    if (line.empty() || line[0] == '#') continue;  // '#' is a Z85 digit: comments are whole lines
    const std::string where = source + ":" + std::to_string(n);
    const std::vector<std::string> fields = Fields(line);
    if (!net::IsZ85Key(fields[0])) {
      return Status::Invalid(where + ": '" + fields[0].substr(0, 48) +
                             "' is not a Z85 public key (40 characters, dsenc keygen)");
    }
    if (auto [it, fresh] = first_line.emplace(fields[0], n); !fresh) {
      return Status::Invalid(where + ": the key is listed again (first on line " +
                             std::to_string(it->second) + "); give each key one line");
    }
    auto rights = ParseGrants(fields);
    if (!rights.ok()) return rights.status().With(where);
    list.emplace(fields[0], std::move(rights).value());
  }
  return list;
}

Result<AllowList> ReadAllowList(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Invalid("cannot read the allow-list " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::Invalid("cannot read the allow-list " + path);
  return ParseAllowList(text.str(), path);
}

}  // namespace dstk::node
