#include "wire/message.h"

#include <array>
#include <utility>

#include "codec/digest.h"
#include "util/name_table.h"
#include "wire/msgpack_fields.h"
#include "wire/name.h"

namespace dstk::wire {
namespace {

using mp::ForEachField;
using mp::Packer;
using mp::ReadBool;
using mp::ReadString;
using mp::ReadU32;
using mp::ReadU64;

constexpr NameTable<Op, 11> kOps = {{
    {Op::kPutSlice, "put_slice"},
    {Op::kGetSlice, "get_slice"},
    {Op::kDelSlice, "del_slice"},
    {Op::kPublish, "publish"},
    {Op::kList, "list"},
    {Op::kStat, "stat"},
    {Op::kLockReadDelete, "lock_read_delete"},
    {Op::kCommit, "commit"},
    {Op::kRelease, "release"},
    {Op::kRenew, "renew"},
    {Op::kFinish, "finish"},
}};

bool IsClaimOp(Op op) {
  return op == Op::kLockReadDelete || op == Op::kCommit || op == Op::kRelease || op == Op::kRenew ||
         op == Op::kFinish;
}

void PackBallot(Packer& p, const Ballot& b) {
  p.pack_map(2);
  p.pack("n"), p.pack(b.n);
  p.pack("id"), p.pack(b.id);
}

Status ReadBallot(const msgpack::object& o, Ballot& b) {
  return ForEachField(o, [&](std::string_view key, const msgpack::object& v) {
    if (key == "n") return ReadU64(v, key, b.n);
    if (key == "id") return ReadU64(v, key, b.id);
    return Status::Ok();
  });
}

void PackClaimView(Packer& p, const ClaimView& c) {
  p.pack_map(c.has_accepted ? 8 : 5);
  p.pack("promised"), PackBallot(p, c.promised);
  p.pack("lock_ms_left"), p.pack(c.lock_ms_left);
  if (c.has_accepted) {
    p.pack("accepted"), PackBallot(p, c.accepted);
    p.pack("owner"), p.pack(c.owner);
    p.pack("lease_live"), p.pack(c.lease_live);
  }
  p.pack("epoch"), p.pack(c.epoch);
  p.pack("attempts"), p.pack(c.attempts);
  p.pack("state"), p.pack(ClaimPhaseName(c.state));
}

Status ReadClaimView(const msgpack::object& o, ClaimView& c) {
  return ForEachField(o, [&](std::string_view key, const msgpack::object& v) {
    if (key == "promised") return ReadBallot(v, c.promised);
    if (key == "lock_ms_left") return ReadU64(v, key, c.lock_ms_left);
    if (key == "accepted") return c.has_accepted = true, ReadBallot(v, c.accepted);
    if (key == "owner") return ReadU64(v, key, c.owner);
    if (key == "lease_live") return ReadBool(v, key, c.lease_live);
    if (key == "epoch") return ReadU64(v, key, c.epoch);
    if (key == "attempts") return ReadU32(v, key, c.attempts);
    if (key == "state") {
      std::string name;
      DSTK_RETURN_IF_ERROR(ReadString(v, key, name));
      const auto phase = ClaimPhaseFromName(name);
      if (!phase)
        return Status::Invalid("field 'state' must be \"pending\", \"consumed\" or \"done\"");
      c.state = *phase;
      return Status::Ok();
    }
    return Status::Ok();
  });
}

constexpr NameTable<ReplyStatus, 13> kStatuses = {{
    {ReplyStatus::kOk, "ok"},
    {ReplyStatus::kNotFound, "not_found"},
    {ReplyStatus::kBadRequest, "bad_request"},
    {ReplyStatus::kConflict, "conflict"},
    {ReplyStatus::kLocked, "locked"},
    {ReplyStatus::kUnauthorized, "unauthorized"},
    {ReplyStatus::kTooLarge, "too_large"},
    {ReplyStatus::kNoSpace, "no_space"},
    {ReplyStatus::kBusy, "busy"},
    {ReplyStatus::kCorrupt, "corrupt"},
    {ReplyStatus::kFenced, "fenced"},
    {ReplyStatus::kError, "error"},
    {ReplyStatus::kForbidden, "forbidden"},
}};

std::string Finish(const msgpack::sbuffer& buf) {
  return std::string(buf.data(), buf.size());
}

// Checks the fields each op needs, after the whole map was read.
Status ValidateRequest(const Request& r, bool has_name, bool has_rev) {
  switch (r.op) {
    case Op::kPutSlice:
      if (!r.slice) return Status::Invalid("put_slice needs 'slice'");
      return ValidateName(r.slice->name);
    case Op::kGetSlice:
    case Op::kDelSlice:
      if (!has_name || !has_rev)
        return Status::Invalid(std::string(OpName(r.op)) + " needs 'name' and 'rev'");
      return ValidateName(r.name);
    case Op::kPublish:
      if (!has_name || !r.manifest) return Status::Invalid("publish needs 'name' and 'manifest'");
      return ValidateName(r.name);
    case Op::kList:
      if (r.lane.lanes > kMaxListLanes)
        return Status::Invalid("at most " + std::to_string(kMaxListLanes) + " 'lanes'");
      if (r.lane.lanes > 1 && r.lane.lane >= r.lane.lanes)
        return Status::Invalid("'lane' must be below 'lanes'");
      if (r.lane.lanes <= 1 && r.lane.lane != 0)
        return Status::Invalid("'lane' needs 'lanes' above 1");
      return ValidatePrefix(r.prefix);
    case Op::kStat:
      return has_name ? ValidateName(r.name) : Status::Ok();
    case Op::kLockReadDelete:
    case Op::kCommit:
    case Op::kRelease:
    case Op::kRenew:
    case Op::kFinish:
      if (!r.keys.empty()) {
        if (has_name) return Status::Invalid("a claim op has 'name' or 'keys', not both");
        if (r.keys.size() > kMaxBatchKeys)
          return Status::Invalid("at most " + std::to_string(kMaxBatchKeys) + " 'keys'");
        for (const auto& k : r.keys) {
          if (k.n == 0) return Status::Invalid("a key's ballot number must be >= 1");
          DSTK_RETURN_IF_ERROR(ValidateName(k.name));
        }
        return Status::Ok();
      }
      if (!has_name) return Status::Invalid(std::string(OpName(r.op)) + " needs 'name'");
      if (r.ballot.n == 0)
        return Status::Invalid(std::string(OpName(r.op)) + " needs a 'ballot' with n >= 1");
      return ValidateName(r.name);
  }
  return Status::Invalid("unknown op");
}

Status ReadKeys(const msgpack::object& o, std::vector<BatchKey>& out) {
  if (o.type != msgpack::type::ARRAY) return Status::Invalid("field 'keys' must be an array");
  if (o.via.array.size > kMaxBatchKeys)
    return Status::Invalid("at most " + std::to_string(kMaxBatchKeys) + " 'keys'");
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    const msgpack::object& k = o.via.array.ptr[i];
    if (k.type != msgpack::type::ARRAY || k.via.array.size < 2 || k.via.array.size > 3)
      return Status::Invalid("each of 'keys' must be [name, n] or [name, n, owner]");
    BatchKey key;
    DSTK_RETURN_IF_ERROR(ReadString(k.via.array.ptr[0], "keys[].name", key.name));
    DSTK_RETURN_IF_ERROR(ReadU64(k.via.array.ptr[1], "keys[].n", key.n));
    if (k.via.array.size == 3)
      DSTK_RETURN_IF_ERROR(ReadU64(k.via.array.ptr[2], "keys[].owner", key.owner));
    out.push_back(std::move(key));
  }
  return Status::Ok();
}

ReplyStatus StatusFromName(std::string_view name, std::string& error) {
  if (auto s = ValueIn(kStatuses, name)) return *s;
  if (error.empty()) error = "unknown status '" + std::string(name.substr(0, 64)) + "'";
  return ReplyStatus::kError;
}

void PackResults(Packer& p, const std::vector<KeyResult>& results) {
  p.pack_array(static_cast<uint32_t>(results.size()));
  for (const auto& r : results) {
    p.pack_map(1 + (r.error.empty() ? 0 : 1) + (r.claim ? 1 : 0) + (r.slice ? 1 : 0));
    p.pack("status"), p.pack(ReplyStatusName(r.status));
    if (!r.error.empty()) p.pack("error"), p.pack(r.error);
    if (r.claim) p.pack("claim"), PackClaimView(p, *r.claim);
    if (r.slice) p.pack("slice"), mp::PackSliceHeader(p, *r.slice);
  }
}

Status ReadResults(const msgpack::object& o, std::vector<KeyResult>& out) {
  if (o.type != msgpack::type::ARRAY) return Status::Invalid("field 'results' must be an array");
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    KeyResult r;
    std::string status = "error";
    DSTK_RETURN_IF_ERROR(
        ForEachField(o.via.array.ptr[i], [&](std::string_view key, const msgpack::object& v) {
          if (key == "status") return ReadString(v, key, status);
          if (key == "error") return ReadString(v, key, r.error);
          if (key == "claim") return mp::ReadOptional(v, r.claim, ReadClaimView);
          if (key == "slice") return mp::ReadOptional(v, r.slice, mp::ReadSliceHeader);
          return Status::Ok();
        }));
    r.status = StatusFromName(status, r.error);
    out.push_back(std::move(r));
  }
  return Status::Ok();
}

}  // namespace

const char* OpName(Op op) {
  return NameIn(kOps, op, "?");
}

std::optional<Op> OpFromName(std::string_view name) {
  return ValueIn(kOps, name);
}

constexpr NameTable<ClaimPhase, 3> kClaimPhases = {{
    {ClaimPhase::kPending, "pending"},
    {ClaimPhase::kConsumed, "consumed"},
    {ClaimPhase::kDone, "done"},
}};

const char* ClaimPhaseName(ClaimPhase p) {
  return NameIn(kClaimPhases, p, "?");
}

std::optional<ClaimPhase> ClaimPhaseFromName(std::string_view name) {
  return ValueIn(kClaimPhases, name);
}

const char* ClaimModeName(ClaimMode m) {
  return m == ClaimMode::kLease ? "lease" : "consume";
}

std::string_view Manifest::SliceHash(uint32_t seg, uint32_t idx) const {
  const uint64_t at = (uint64_t{seg} * n + idx) * codec::kDigestSize;
  if (idx >= n || at + codec::kDigestSize > hashes.size()) return {};
  return std::string_view(hashes).substr(at, codec::kDigestSize);
}

bool Manifest::SameContents(const Manifest& o) const {
  return rev == o.rev && size == o.size && segs == o.segs && segsize == o.segsize && k == o.k &&
         n == o.n && tomb == o.tomb && token == o.token && root == o.root;
}

const char* ReplyStatusName(ReplyStatus s) {
  return NameIn(kStatuses, s, "error");
}

std::string EncodeRequest(const Request& r) {
  msgpack::sbuffer buf;
  Packer p(buf);
  uint32_t fields = 3;
  const bool named = r.op != Op::kList && r.op != Op::kPutSlice && !r.name.empty();
  fields += named;
  fields += (r.op == Op::kGetSlice || r.op == Op::kDelSlice) ? 1 : 0;  // rev
  fields += r.op == Op::kGetSlice ? 1 : 0;                             // seg
  fields += r.verify ? 1 : 0;
  fields += r.op == Op::kStat && r.slice_max != 0 ? 1 : 0;
  fields += r.slice ? 1 : 0;
  fields += r.manifest ? 1 : 0;
  fields += r.op == Op::kList ? 3 : 0;
  fields += r.op == Op::kList && r.lane.lanes > 1 ? 2 : 0;
  fields += IsClaimOp(r.op) ? 4 : 0;  // ballot, owner, lease_ms, mode
  fields += r.token != 0 ? 1 : 0;
  fields += r.pack ? 1 : 0;
  fields += r.moved ? 1 : 0;
  fields += r.keys.empty() ? 0 : 1;
  p.pack_map(fields);
  p.pack("v"), p.pack(r.v);
  p.pack("op"), p.pack(OpName(r.op));
  p.pack("id"), p.pack(r.id);
  if (named) p.pack("name"), p.pack(r.name);
  if (r.op == Op::kGetSlice || r.op == Op::kDelSlice) p.pack("rev"), p.pack(r.rev);
  if (r.op == Op::kGetSlice) p.pack("seg"), p.pack(r.seg);
  if (r.verify) p.pack("verify"), p.pack(true);
  if (r.op == Op::kStat && r.slice_max != 0) p.pack("slice_max"), p.pack(r.slice_max);
  if (r.slice) p.pack("slice"), mp::PackSliceHeader(p, *r.slice);
  if (r.manifest) p.pack("manifest"), mp::PackManifest(p, *r.manifest);
  if (r.op == Op::kList) {
    p.pack("prefix"), p.pack(r.prefix);
    p.pack("after"), p.pack(r.after);
    p.pack("limit"), p.pack(r.limit);
    if (r.lane.lanes > 1)
      p.pack("lanes"), p.pack(r.lane.lanes), p.pack("lane"), p.pack(r.lane.lane);
  }
  if (IsClaimOp(r.op)) {
    p.pack("ballot"), PackBallot(p, r.ballot);
    p.pack("owner"), p.pack(r.owner);
    p.pack("lease_ms"), p.pack(r.lease_ms);
    p.pack("mode"), p.pack(ClaimModeName(r.mode));
  }
  if (r.token != 0) p.pack("token"), p.pack(r.token);
  if (r.pack) p.pack("pack"), p.pack(true);
  if (r.moved) p.pack("moved"), p.pack(true);
  if (!r.keys.empty()) {
    p.pack("keys");
    p.pack_array(static_cast<uint32_t>(r.keys.size()));
    for (const auto& k : r.keys) {
      p.pack_array(k.owner != 0 ? 3 : 2), p.pack(k.name), p.pack(k.n);
      if (k.owner != 0) p.pack(k.owner);
    }
  }
  return Finish(buf);
}

Result<Request> DecodeRequest(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxHeaderFrame) return Status::Invalid("request header frame too large");
  auto oh = mp::UnpackBounded(bytes);
  if (!oh.ok()) return oh.status();
  Request r;
  bool has_v = false, has_op = false, has_id = false, has_name = false, has_rev = false;
  std::string op_name;
  Status st = ForEachField(oh->get(), [&](std::string_view key, const msgpack::object& v) {
    if (key == "v") return has_v = true, ReadU32(v, key, r.v);
    if (key == "op") return has_op = true, ReadString(v, key, op_name);
    if (key == "id") return has_id = true, ReadU64(v, key, r.id);
    if (key == "name") return has_name = true, ReadString(v, key, r.name);
    if (key == "rev") return has_rev = true, ReadU64(v, key, r.rev);
    if (key == "seg") return ReadU32(v, key, r.seg);
    if (key == "verify") return ReadBool(v, key, r.verify);
    if (key == "slice_max") return ReadU32(v, key, r.slice_max);
    if (key == "prefix") return ReadString(v, key, r.prefix);
    if (key == "after") return ReadString(v, key, r.after);
    if (key == "limit") return ReadU32(v, key, r.limit);
    if (key == "lanes") return ReadU32(v, key, r.lane.lanes);
    if (key == "lane") return ReadU32(v, key, r.lane.lane);
    if (key == "ballot") return ReadBallot(v, r.ballot);
    if (key == "owner") return ReadU64(v, key, r.owner);
    if (key == "lease_ms") return ReadU32(v, key, r.lease_ms);
    if (key == "token") return ReadU64(v, key, r.token);
    if (key == "pack") return ReadBool(v, key, r.pack);
    if (key == "moved") return ReadBool(v, key, r.moved);
    if (key == "keys") return ReadKeys(v, r.keys);
    if (key == "mode") {
      std::string m;
      DSTK_RETURN_IF_ERROR(ReadString(v, key, m));
      if (m == "consume")
        r.mode = ClaimMode::kConsume;
      else if (m == "lease")
        r.mode = ClaimMode::kLease;
      else
        return Status::Invalid("field 'mode' must be \"consume\" or \"lease\"");
      return Status::Ok();
    }
    if (key == "slice") return mp::ReadOptional(v, r.slice, mp::ReadSliceHeader);
    if (key == "manifest") return mp::ReadOptional(v, r.manifest, mp::ReadManifest);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!has_v || !has_op || !has_id) return Status::Invalid("request needs 'v', 'op' and 'id'");
  if (r.v != kProtocolVersion) {
    return Status::Invalid("unsupported protocol version " + std::to_string(r.v) +
                           " (this unit speaks " + std::to_string(kProtocolVersion) + ")");
  }
  auto op = OpFromName(op_name);
  if (!op) return Status::Invalid("unknown op '" + op_name.substr(0, 64) + "'");
  r.op = *op;
  DSTK_RETURN_IF_ERROR(ValidateRequest(r, has_name, has_rev));
  return r;
}

namespace {

// Finds the top-level "id" of a request frame for PeekRequestId. msgpack-c's visitor parser
// reads forward and builds no objects, so the id is seen even where UnpackBounded refuses the
// whole frame (over kMaxHeaderFrame, nested too deep, garbage or truncation later in the map):
// parsing stops at the first malformed or missing byte, and what came before it still counts.
// As DecodeRequest reads it: a non-negative integer value of a string key "id" of the top-level
// map (msgpack-c reads a signed integer that is not negative as that number); the last wins.
class RequestIdVisitor : public msgpack::null_visitor {
 public:
  uint64_t id() const { return id_; }

  bool start_map(uint32_t) { return Enter(); }
  bool end_map() { return Leave(); }
  bool start_array(uint32_t) { return Enter(); }
  bool end_array() { return Leave(); }
  bool start_map_key() {
    key_is_id_ = false;
    return true;
  }
  bool visit_str(const char* v, uint32_t size) {
    // Only a key of the top-level map itself; a string inside a key or a value is deeper.
    if (depth_ == 1 && !in_value_) key_is_id_ = std::string_view(v, size) == "id";
    return true;
  }
  bool start_map_value() {
    in_value_ = depth_ == 1;
    return true;
  }
  bool end_map_value() {
    if (depth_ == 1) in_value_ = false, key_is_id_ = false;
    return true;
  }
  bool visit_positive_integer(uint64_t v) {
    if (depth_ == 1 && in_value_ && key_is_id_) id_ = v;
    return true;
  }
  bool visit_negative_integer(int64_t v) {
    return v >= 0 ? visit_positive_integer(static_cast<uint64_t>(v)) : true;
  }
  // Nothing past a few levels can hold the id; stop rather than walk deep nesting.
  static constexpr int kMaxDepth = 8;

 private:
  bool Enter() { return ++depth_ <= kMaxDepth; }
  bool Leave() {
    --depth_;
    return true;
  }

  uint64_t id_ = 0;
  int depth_ = 0;
  bool in_value_ = false;
  bool key_is_id_ = false;
};

}  // namespace

uint64_t PeekRequestId(std::span<const uint8_t> bytes) {
  RequestIdVisitor visitor;
  // The frame must be a map; an array or a scalar at the top holds no request id.
  if (bytes.empty() ||
      !((bytes[0] >= 0x80 && bytes[0] <= 0x8f) || bytes[0] == 0xde || bytes[0] == 0xdf)) {
    return 0;
  }
  size_t offset = 0;
  try {
    (void)msgpack::parse(reinterpret_cast<const char*>(bytes.data()), bytes.size(), offset,
                         visitor);
  } catch (const std::exception&) {
    // A malformed item: the id seen before it stands.
  }
  return visitor.id();
}

std::string EncodeReply(const Reply& r) {
  msgpack::sbuffer buf;
  Packer p(buf);
  uint32_t fields = 3;
  fields += r.error.empty() ? 0 : 1;
  fields += r.slice ? 1 : 0;
  fields += r.committed ? 1 : 0;
  fields += r.held.empty() ? 0 : 1;
  fields += r.entries.empty() && !r.more ? 0 : 2;
  fields += r.unit ? 1 : 0;
  fields += r.unit_id.empty() ? 0 : 1;
  fields += r.claim ? 1 : 0;
  fields += r.results.empty() ? 0 : 1;
  fields += r.scanned.empty() ? 0 : 1;
  p.pack_map(fields);
  p.pack("v"), p.pack(kProtocolVersion);
  p.pack("id"), p.pack(r.id);
  p.pack("status"), p.pack(ReplyStatusName(r.status));
  if (!r.error.empty()) p.pack("error"), p.pack(r.error);
  if (r.slice) p.pack("slice"), mp::PackSliceHeader(p, *r.slice);
  if (r.committed) p.pack("committed"), mp::PackManifest(p, *r.committed);
  if (!r.held.empty()) {
    p.pack("held");
    p.pack_array(static_cast<uint32_t>(r.held.size()));
    for (const auto& h : r.held) {
      p.pack_map(3);
      p.pack("rev"), p.pack(h.rev);
      p.pack("slices"), p.pack(h.slices);
      p.pack("bad"), p.pack(h.bad);
    }
  }
  if (!r.entries.empty() || r.more) {
    p.pack("entries");
    p.pack_array(static_cast<uint32_t>(r.entries.size()));
    for (const auto& e : r.entries) {
      p.pack_map(e.locked > 0 ? 3 : 2);
      p.pack("name"), p.pack(e.name);
      p.pack("manifest"), mp::PackManifest(p, e.manifest);
      if (e.locked > 0) p.pack("locked"), p.pack(true);
    }
    p.pack("more"), p.pack(r.more);
  }
  if (!r.scanned.empty()) p.pack("scanned"), p.pack(r.scanned);
  if (r.claim) p.pack("claim"), PackClaimView(p, *r.claim);
  if (!r.results.empty()) p.pack("results"), PackResults(p, r.results);
  if (r.unit) {
    p.pack("unit");
    p.pack_map(6);
    p.pack("version"), p.pack(r.unit->version);
    p.pack("objects"), p.pack(r.unit->objects);
    p.pack("slices"), p.pack(r.unit->slices);
    p.pack("bytes_used"), p.pack(r.unit->bytes_used);
    p.pack("bytes_free"), p.pack(r.unit->bytes_free);
    p.pack("uptime_s"), p.pack(r.unit->uptime_s);
  }
  if (!r.unit_id.empty()) p.pack("unit_id"), p.pack(r.unit_id);
  return Finish(buf);
}

namespace {

Status ReadHeld(const msgpack::object& o, std::vector<HeldRevision>& out) {
  if (o.type != msgpack::type::ARRAY) return Status::Invalid("field 'held' must be an array");
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    HeldRevision h;
    DSTK_RETURN_IF_ERROR(
        ForEachField(o.via.array.ptr[i], [&](std::string_view key, const msgpack::object& v) {
          if (key == "rev") return ReadU64(v, key, h.rev);
          if (key == "slices") return ReadU32(v, key, h.slices);
          if (key == "bad") return ReadU32(v, key, h.bad);
          return Status::Ok();
        }));
    out.push_back(h);
  }
  return Status::Ok();
}

Status ReadEntries(const msgpack::object& o, std::vector<ListEntry>& out) {
  if (o.type != msgpack::type::ARRAY) return Status::Invalid("field 'entries' must be an array");
  for (uint32_t i = 0; i < o.via.array.size; ++i) {
    ListEntry e;
    bool has_manifest = false;
    DSTK_RETURN_IF_ERROR(
        ForEachField(o.via.array.ptr[i], [&](std::string_view key, const msgpack::object& v) {
          if (key == "name") return ReadString(v, key, e.name);
          if (key == "manifest") return has_manifest = true, mp::ReadManifest(v, e.manifest);
          if (key == "locked") {
            bool locked = false;
            Status st = ReadBool(v, key, locked);
            e.locked = locked ? 1 : 0;
            return st;
          }
          return Status::Ok();
        }));
    if (!has_manifest) return Status::Invalid("list entry lacks a manifest");
    DSTK_RETURN_IF_ERROR(ValidateName(e.name));
    out.push_back(std::move(e));
  }
  return Status::Ok();
}

Status ReadUnit(const msgpack::object& o, UnitInfo& u) {
  return ForEachField(o, [&](std::string_view key, const msgpack::object& v) {
    if (key == "version") return ReadString(v, key, u.version);
    if (key == "objects") return ReadU64(v, key, u.objects);
    if (key == "slices") return ReadU64(v, key, u.slices);
    if (key == "bytes_used") return ReadU64(v, key, u.bytes_used);
    if (key == "bytes_free") return ReadU64(v, key, u.bytes_free);
    if (key == "uptime_s") return ReadU64(v, key, u.uptime_s);
    return Status::Ok();
  });
}

}  // namespace

Result<Reply> DecodeReply(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxHeaderFrame) return Status::Invalid("reply header frame too large");
  auto oh = mp::UnpackBounded(bytes);
  if (!oh.ok()) return oh.status();
  Reply r;
  bool has_id = false, has_status = false;
  std::string status_name;
  Status st = ForEachField(oh->get(), [&](std::string_view key, const msgpack::object& v) {
    if (key == "id") return has_id = true, ReadU64(v, key, r.id);
    if (key == "status") return has_status = true, ReadString(v, key, status_name);
    if (key == "error") return ReadString(v, key, r.error);
    if (key == "more") return ReadBool(v, key, r.more);
    if (key == "scanned") {
      DSTK_RETURN_IF_ERROR(ReadString(v, key, r.scanned));
      return ValidateName(r.scanned);
    }
    if (key == "held") return ReadHeld(v, r.held);
    if (key == "entries") return ReadEntries(v, r.entries);
    if (key == "slice") return mp::ReadOptional(v, r.slice, mp::ReadSliceHeader);
    if (key == "committed") return mp::ReadOptional(v, r.committed, mp::ReadManifest);
    if (key == "unit") return mp::ReadOptional(v, r.unit, ReadUnit);
    if (key == "unit_id") return ReadString(v, key, r.unit_id);
    if (key == "claim") return mp::ReadOptional(v, r.claim, ReadClaimView);
    if (key == "results") return ReadResults(v, r.results);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!has_id || !has_status) return Status::Invalid("reply needs 'id' and 'status'");
  r.status = StatusFromName(status_name, r.error);
  return r;
}

}  // namespace dstk::wire
