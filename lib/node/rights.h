// What a client key may do on a unit: rights per op, each over the names or queues it covers.
//
// Every request needs one right, decided by its op and name alone (RightFor):
//
//   read    get_slice, stat of a name, list
//   write   put_slice, publish and del_slice of an object (not a queue key)
//   delete  publish of a tombstone (dsenc rm), of an object or a function
//   push    put_slice, publish and del_slice of a queue key (wire::QueueOf: dsenc push)
//   claim   lock_read_delete, commit, release, renew, finish
//   admin   del_slice with `moved` (rebalance dropping a slice that moved elsewhere)
//
// read, write and delete cover names under prefixes; push and claim cover queues. Two ops are
// also served on other rights, because a holder of those cannot work without them and they
// show no object's bytes: a `stat` of a name on any right that covers the name (a writer
// learns the committed revision before writing the next), and a `list` of a queue's keys
// ("Q/...") on claim for Q (a claimer walks the queue). A `stat` without a name (the unit's
// id, version and counts, which placement asks every unit for) needs no right.
//
// Only units with CurveZMQ keys know who asks; without keys no rights apply (node/server.h).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "wire/message.h"

namespace dstk::node {

enum class Right { kRead, kWrite, kDelete, kPush, kClaim, kAdmin };
inline constexpr size_t kRightCount = 6;

// "read", "write", ...: the names the allow-list and the logs use.
const char* RightName(Right r);
std::optional<Right> RightFromName(std::string_view name);
// True for push and claim, whose scopes are queues; read, write and delete take name prefixes;
// admin takes none.
bool IsQueueRight(Right r);

// Where one right applies: everywhere, or under these name prefixes (read, write, delete) or
// on these queues (push, claim). Neither: the right is not held.
struct Scope {
  bool everywhere = false;
  std::vector<std::string> within;  // prefixes (a plain string prefix of the name) or queues
};

// The rights of one client key, as its allow-list line grants them (node/allow_list.h).
class Rights {
 public:
  // Every right everywhere, unchecked: a line holding only the key, or `all`. Such a key
  // is served exactly as every allowed key was before rights existed (a claim on any name,
  // a write of a name shaped like a queue key).
  static Rights All();
  bool unrestricted() const { return all_; }

  // Grants `r` everywhere (`within` empty) or within one prefix or queue.
  void Grant(Right r, const std::string& within = "");
  const Scope& scope(Right r) const { return scopes_[static_cast<size_t>(r)]; }

  // True when `r` covers `name`: a name under one of its prefixes, or a queue key of one of
  // its queues (a name that is no queue key is on no queue).
  bool Covers(Right r, std::string_view name) const;

 private:
  std::array<Scope, kRightCount> scopes_{};
  bool all_ = false;
};

// The one right `r` needs (the table above); nullopt for a stat without a name.
std::optional<Right> RightFor(const wire::Request& r);

// Ok when `rights` allow request `r`, every key of a batched claim included; otherwise
// kForbidden naming the right it lacks and the name ("this client key has no write right on
// other/x"; for a stat, which any right allows, "... has no right on other/x").
Status CheckRights(const Rights& rights, const wire::Request& r);

}  // namespace dstk::node
