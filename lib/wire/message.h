// The dsnode wire protocol: request and reply messages and their msgpack encoding.
//
// A request is a ZeroMQ multipart message: frame 1 a msgpack map {v, op, id, ...fields}, then
// for put_slice a frame 2 with the raw slice payload. A reply is frame 1 a msgpack map
// {v, id, status, error?, ...fields}, then for get_slice a frame 2 with the payload. Keys a
// reader does not know are ignored, so fields can be added without a version bump; removing or
// retyping a field needs a new `v`. man/dstk-protocol.7 is the normative description.
//
// This file is the one place where untrusted request and reply bytes are parsed.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codec/slice.h"
#include "util/status.h"
#include "wire/limits.h"

namespace dstk::wire {

enum class Op {
  kPutSlice,  // store one slice of a (pending) revision
  kGetSlice,  // fetch one slice
  kDelSlice,  // delete the slices of one revision (abort of a failed put)
  kPublish,   // make a revision (or a tombstone) the unit's committed one
  kList,      // committed names under a prefix, ordered, paged
  kStat,      // one object's state on this unit, or the unit's own state
  // The claim (docs/claim.md): Paxos phase 1 with the read, phase 2, and the lease ops.
  kLockReadDelete,
  kCommit,
  kRelease,
  kRenew,
  kFinish,
};

// A Paxos ballot: ordered by number, then by the claimer's id. The number is the claim token.
struct Ballot {
  uint64_t n = 0;
  uint64_t id = 0;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads a defaulted <=> (its 0).
  auto operator<=>(const Ballot&) const = default;
};

enum class ClaimMode { kConsume, kLease };
const char* ClaimModeName(ClaimMode m);

// Where a function is in its claim on one unit. On the wire it is the string ClaimPhaseName
// gives ("pending", "consumed", "done"); a reply carrying any other string fails to decode.
// (store::ClaimState::Phase is the unit's durable copy of the same three.)
enum class ClaimPhase { kPending, kConsumed, kDone };
const char* ClaimPhaseName(ClaimPhase p);
std::optional<ClaimPhase> ClaimPhaseFromName(std::string_view name);

// What a unit reports of its claim state for one function (lock_read_delete, commit, ...).
struct ClaimView {
  Ballot promised;
  uint64_t lock_ms_left = 0;  // 0: no live lock
  bool has_accepted = false;
  Ballot accepted;                          // valid when has_accepted
  uint64_t owner = 0;                       // the accepted owner's claimer id
  bool lease_live = false;                  // lease mode: the accepted owner's lease has not lapsed
  uint64_t epoch = 0;                       // highest ballot number accepted here
  uint32_t attempts = 0;                    // distinct ballots accepted (runs started)
  ClaimPhase state = ClaimPhase::kPending;  // sent as ClaimPhaseName(state)
};

const char* OpName(Op op);
std::optional<Op> OpFromName(std::string_view name);

// What a committed revision is: written by publish, returned by stat and list.
struct Manifest {
  uint64_t rev = 0;
  uint64_t size = 0;  // object length in bytes
  uint32_t segs = 0;  // segment count
  uint32_t segsize = codec::kDefaultSegmentSize;
  uint32_t k = 0;
  uint32_t n = 0;
  bool tomb = false;   // a deletion marker: the object is gone as of `rev`
  uint64_t token = 0;  // fencing: the claim token the revision was written with (0: none)
  // Placement (client/placement.h): the id of the unit holding each pillar, in pillar order
  // (n ids), so a reader finds the slices after the node list changed. Empty: written before
  // placement existed, or by a writer that knew no ids; pillar i is then on node list line i.
  std::vector<std::string> placement;
  // Bumped each time rebalance or repair moves a pillar of the revision to another unit: of two
  // manifests of one revision, the higher generation has the current placement.
  uint32_t pgen = 0;
  // Integrity (codec/digest.h): `hashes` is the SHA-256 of every slice's payload, segment after
  // segment and pillar after pillar within one (segs * n digests of kDigestSize bytes), and
  // `root` the SHA-256 of `hashes`: the revision's identity, shown by stat. A reader checks
  // each slice it decodes against its digest, so a unit that serves made-up bytes with a valid
  // CRC is caught. Both empty: a tombstone, or a revision written before manifests carried them
  // (its slices are checked by their CRC only).
  std::string hashes;
  std::string root;

  bool hashed() const { return !hashes.empty(); }
  // The digest of pillar `idx` of segment `seg` (raw bytes); empty when !hashed() or out of range.
  std::string_view SliceHash(uint32_t seg, uint32_t idx) const;
  // Whether two units' manifests describe the same revision with the same contents (placement
  // and pgen aside, which rebalance changes): how a reader counts identical copies.
  bool SameContents(const Manifest& o) const;
};

// One key of a batched claim request: the function and this claimer's ballot number for it
// (the ballot id is the request's), and for a commit the owner when it is not the request's
// (a claimer teaching units another claimer's accepted owner, as in a one-key commit).
struct BatchKey {
  std::string name;
  uint64_t n = 0;
  uint64_t owner = 0;  // 0: the request's owner
};

// One lane of a listing: with lanes > 1, only the names whose LaneOf(name, lanes)
// (wire/name.h) is `lane`; lanes 0 or 1 lists every name.
struct ListLane {
  uint32_t lane = 0;
  uint32_t lanes = 0;
};

struct Request {
  uint32_t v = kProtocolVersion;
  Op op = Op::kStat;
  uint64_t id = 0;
  std::string name;     // put/get/del/publish/stat(object)
  uint64_t rev = 0;     // get/del/publish
  uint32_t seg = 0;     // get
  bool verify = false;  // stat: re-read and check every slice's CRC
  // stat(object): also send the committed revision's slice of segment 0 (header in the reply's
  // `slice`, bytes in its payload frame) when its payload is at most this long and the key may
  // read the name; 0: no slice. A reader of a small object then needs no get_slice round.
  uint32_t slice_max = 0;
  std::optional<codec::SliceHeader> slice;  // put_slice
  std::optional<Manifest> manifest;         // publish
  // del_slice: the revision lives on other units now (rebalance moved it); drop it even when
  // it is this unit's committed one, with its manifest.
  bool moved = false;
  std::string prefix;                    // list
  std::string after;                     // list: resume after this name
  uint32_t limit = 0;                    // list: page size (0: the unit's maximum)
  ListLane lane;                         // list: one lane of the names only
  Ballot ballot;                         // claim ops
  uint64_t owner = 0;                    // commit: the owner to accept
  uint32_t lease_ms = 0;                 // lock_read_delete, commit, renew
  ClaimMode mode = ClaimMode::kConsume;  // lock_read_delete, commit
  uint64_t token = 0;                    // put_slice: fencing token (0: none)
  bool pack = false;                     // put_slice: a small slice to append to a pack
  // Claim ops: the same op applied to each of these keys (at most kMaxBatchKeys) instead of
  // `name`, each at ballot {key.n, ballot.id}; the reply has one `results` entry per key.
  std::vector<BatchKey> keys;
};

enum class ReplyStatus {
  kOk,
  kNotFound,
  kBadRequest,
  kConflict,
  kLocked,
  kUnauthorized,
  kTooLarge,
  kNoSpace,
  kBusy,
  kCorrupt,
  kFenced,
  kError,
  kForbidden,  // the client's key lacks the right for the op (appended: older values keep theirs)
  // New statuses go last, here: node/metrics.h sizes its per-status arrays from the last one.
};

const char* ReplyStatusName(ReplyStatus s);

// One revision a unit holds slices of, as stat reports it.
struct HeldRevision {
  uint64_t rev = 0;
  uint32_t slices = 0;  // good slices held (all of them unless `verify` found bad ones)
  uint32_t bad = 0;     // slices whose CRC failed (only counted with `verify`)
};

struct ListEntry {
  std::string name;
  Manifest manifest;
  // Units that hold a live claim lock on this function (a promise or a lease not yet ended):
  // 0 or 1 in one unit's reply, summed over the units a merged listing heard. A hint for
  // walkers, which try such keys last; never used to decide a claim.
  uint32_t locked = 0;
  // Units whose listing held it (set by a merged listing, client::ListObjects; not on the wire).
  // Fewer than a claim quorum: it is consumed or finished on the others, or its commit is on
  // its way there.
  uint32_t units = 0;
};

struct UnitInfo {
  std::string version;
  uint64_t objects = 0;
  uint64_t slices = 0;
  uint64_t bytes_used = 0;
  uint64_t bytes_free = 0;
  uint64_t uptime_s = 0;
};

// One key's outcome in the reply to a batched claim request, in the request's key order.
// The slices of results that carry one are the reply's payload frame, back to back in this
// order, each slice.PayloadLength() bytes.
struct KeyResult {
  ReplyStatus status = ReplyStatus::kOk;
  std::string error;
  std::optional<ClaimView> claim;
  std::optional<codec::SliceHeader> slice;
  bool ok() const { return status == ReplyStatus::kOk; }
};

struct Reply {
  uint64_t id = 0;
  ReplyStatus status = ReplyStatus::kOk;
  std::string error;                        // human-readable, when status is not ok
  std::optional<codec::SliceHeader> slice;  // get_slice
  std::optional<Manifest> committed;        // stat(object): the unit's committed revision
  std::vector<HeldRevision> held;           // stat(object): revisions with slices here
  std::vector<ListEntry> entries;           // list
  bool more = false;                        // list: another page follows
  std::optional<UnitInfo> unit;             // stat without a name
  std::string unit_id;                      // stat: the unit's identity (store/unit_id.h)
  std::optional<ClaimView> claim;           // claim ops
  std::vector<KeyResult> results;           // batched claim ops
  // list with lanes: the last name examined, when the unit stopped scanning before `limit`
  // names of the lane (resume after it, not after the last entry); empty otherwise.
  std::string scanned;

  bool ok() const { return status == ReplyStatus::kOk; }
};

std::string EncodeRequest(const Request& r);
std::string EncodeReply(const Reply& r);

// Parse untrusted bytes. kInvalidArgument (reported as bad_request) on anything malformed:
// not a map, a wrong type, a missing field, an unknown op or version, a bad name.
Result<Request> DecodeRequest(std::span<const uint8_t> bytes);
Result<Reply> DecodeReply(std::span<const uint8_t> bytes);

// The `id` of a request that failed to decode, so that the refusal can still be matched by the
// client: read whenever the frame starts with a msgpack map whose `id` field, an unsigned
// integer, comes before the first malformed or missing byte, whatever the frame's size or what
// follows. 0 when there is none (not a map, no such field, a wrong type, cut short before it).
uint64_t PeekRequestId(std::span<const uint8_t> bytes);

}  // namespace dstk::wire
