#include "node/rights.h"

#include <algorithm>

#include "util/name_table.h"
#include "wire/name.h"

namespace dstk::node {
namespace {

constexpr NameTable<Right, kRightCount> kRights = {{
    {Right::kRead, "read"},
    {Right::kWrite, "write"},
    {Right::kDelete, "delete"},
    {Right::kPush, "push"},
    {Right::kClaim, "claim"},
    {Right::kAdmin, "admin"},
}};

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// The right a request on one name needs; a batched claim asks it for each of its keys.
Right NamedRight(const wire::Request& r) {
  switch (r.op) {
    case wire::Op::kGetSlice:
    case wire::Op::kList:
    case wire::Op::kStat:
      return Right::kRead;
    case wire::Op::kPublish:
      if (r.manifest && r.manifest->tomb) return Right::kDelete;
      [[fallthrough]];
    case wire::Op::kPutSlice:
      return wire::QueueOf(r.slice ? r.slice->name : r.name) ? Right::kPush : Right::kWrite;
    case wire::Op::kDelSlice:
      if (r.moved) return Right::kAdmin;
      return wire::QueueOf(r.name) ? Right::kPush : Right::kWrite;
    case wire::Op::kLockReadDelete:
    case wire::Op::kCommit:
    case wire::Op::kRelease:
    case wire::Op::kRenew:
    case wire::Op::kFinish:
      return Right::kClaim;
  }
  return Right::kAdmin;  // an op added without a row here is for the unit's operator only
}

// A stat of `name` on any right that covers it: a writer, pusher or claimer must learn the
// committed revision, and stat shows no object's bytes.
bool AnyRightCovers(const Rights& rights, std::string_view name) {
  for (const auto& [right, text] : kRights) {
    if (right != Right::kAdmin && rights.Covers(right, name)) return true;
  }
  return false;
}

// A list of "Q/..." on claim for Q: a claimer walks its queue's keys.
bool ClaimCoversListing(const Rights& rights, std::string_view prefix) {
  const Scope& claim = rights.scope(Right::kClaim);
  if (claim.everywhere) return prefix.find('/') != std::string_view::npos && prefix[0] != '/';
  return std::any_of(claim.within.begin(), claim.within.end(), [&](const std::string& q) {
    return prefix.size() > q.size() && StartsWith(prefix, q) && prefix[q.size()] == '/';
  });
}

// `right` null: any right would have done (a stat).
Status Refuse(const std::optional<Right>& right, std::string_view name) {
  std::string msg = "this client key has no ";
  if (right) msg.append(RightName(*right)).append(" ");
  return Status::Forbidden(
      msg.append("right on ").append(name.empty() ? std::string_view("(all names)") : name));
}

}  // namespace

const char* RightName(Right r) {
  return NameIn(kRights, r, "?");
}

std::optional<Right> RightFromName(std::string_view name) {
  return ValueIn(kRights, name);
}

bool IsQueueRight(Right r) {
  return r == Right::kPush || r == Right::kClaim;
}

Rights Rights::All() {
  Rights all;
  for (auto& s : all.scopes_) s.everywhere = true;
  all.all_ = true;
  return all;
}

void Rights::Grant(Right r, const std::string& within) {
  Scope& s = scopes_[static_cast<size_t>(r)];
  if (within.empty()) {
    s.everywhere = true;
  } else {
    s.within.push_back(within);
  }
}

bool Rights::Covers(Right r, std::string_view name) const {
  if (all_) return true;
  const Scope& s = scope(r);
  if (IsQueueRight(r)) {
    // push and claim act on queue keys only: a name of another shape is an object.
    const auto queue = wire::QueueOf(name);
    if (!queue) return false;
    return s.everywhere || std::find(s.within.begin(), s.within.end(), *queue) != s.within.end();
  }
  if (s.everywhere) return true;
  return std::any_of(s.within.begin(), s.within.end(),
                     [&](const std::string& p) { return StartsWith(name, p); });
}

std::optional<Right> RightFor(const wire::Request& r) {
  if (r.op == wire::Op::kStat && r.name.empty()) return std::nullopt;
  return NamedRight(r);
}

Status CheckRights(const Rights& rights, const wire::Request& r) {
  if (rights.unrestricted()) return Status::Ok();
  const auto right = RightFor(r);
  if (!right) return Status::Ok();  // the unit's own stat
  if (r.op == wire::Op::kList) {
    if (rights.Covers(Right::kRead, r.prefix) || ClaimCoversListing(rights, r.prefix))
      return Status::Ok();
    return Refuse(Right::kRead, r.prefix);
  }
  if (r.op == wire::Op::kStat) {
    return AnyRightCovers(rights, r.name) ? Status::Ok() : Refuse(std::nullopt, r.name);
  }
  if (*right == Right::kAdmin) {
    return rights.scope(Right::kAdmin).everywhere ? Status::Ok() : Refuse(Right::kAdmin, r.name);
  }
  // A batched claim names its keys instead of `name`: each must be covered.
  if (!r.keys.empty()) {
    for (const auto& key : r.keys) {
      if (!rights.Covers(*right, key.name)) return Refuse(*right, key.name);
    }
    return Status::Ok();
  }
  const std::string& name = r.slice ? r.slice->name : r.name;
  return rights.Covers(*right, name) ? Status::Ok() : Refuse(*right, name);
}

}  // namespace dstk::node
