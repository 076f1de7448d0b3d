#include "store/claim_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "store/file_util.h"
#include "util/unique_fd.h"
#include "wire/msgpack_fields.h"

namespace dstk::store {
namespace {

// The single-state format of earlier versions is the state array without the seq element (10
// elements instead of 11), then its CRC32C.
std::vector<uint8_t> EncodeState(const ClaimState& c, uint64_t seq) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  PackClaimState(p, c, seq);
  const std::string with_crc = WithCrc({buf.data(), buf.size()});
  return {with_crc.begin(), with_crc.end()};
}

Result<ClaimRecord> DecodeState(std::span<const uint8_t> data) {
  auto body = BodyIfCrcMatches(data, "claim state");
  if (!body.ok()) return body.status();
  auto oh = wire::mp::UnpackBounded(*body);
  if (!oh.ok()) return Status::Corruption(oh.status().message());
  return ReadClaimState(oh->get());
}

}  // namespace

void PackClaimState(wire::mp::Packer& p, const ClaimState& c, uint64_t seq) {
  p.pack_array(11);
  p.pack(c.promised.n), p.pack(c.promised.id), p.pack(c.lock_until_ms), p.pack(c.has_accepted);
  p.pack(c.accepted.n), p.pack(c.accepted.id), p.pack(c.owner), p.pack(c.epoch), p.pack(c.attempts);
  p.pack(static_cast<int>(c.phase)), p.pack(seq);
}

Result<ClaimRecord> ReadClaimState(const msgpack::object& o) {
  ClaimRecord r;
  try {
    if (o.type != msgpack::type::ARRAY || (o.via.array.size != 10 && o.via.array.size != 11))
      return Status::Corruption("bad claim state");
    const msgpack::object* a = o.via.array.ptr;
    ClaimState& c = r.state;
    c.promised = {a[0].as<uint64_t>(), a[1].as<uint64_t>()};
    c.lock_until_ms = a[2].as<int64_t>();
    c.has_accepted = a[3].as<bool>();
    c.accepted = {a[4].as<uint64_t>(), a[5].as<uint64_t>()};
    c.owner = a[6].as<uint64_t>();
    c.epoch = a[7].as<uint64_t>();
    c.attempts = a[8].as<uint32_t>();
    const int phase = a[9].as<int>();
    if (phase < 0 || phase > 2) return Status::Corruption("bad claim phase");
    c.phase = static_cast<ClaimState::Phase>(phase);
    if (o.via.array.size == 11) r.seq = a[10].as<uint64_t>();
  } catch (const std::exception& e) {
    return Status::Corruption(std::string("bad claim state: ") + e.what());
  }
  return r;
}

std::vector<uint8_t> EncodeClaimSlot(const ClaimState& state, uint64_t seq) {
  const std::vector<uint8_t> body = EncodeState(state, seq);
  std::vector<uint8_t> slot(kClaimSlotSize, 0);
  // A ClaimState packs to at most about 90 bytes, far below a slot.
  const auto len = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) slot[static_cast<size_t>(i)] = static_cast<uint8_t>(len >> (8 * i));
  std::copy(body.begin(), body.end(), slot.begin() + 4);
  return slot;
}

Result<ClaimRecord> DecodeClaimSlot(std::span<const uint8_t> slot) {
  if (slot.size() < 4) return Status::Corruption("claim slot truncated");
  uint32_t len = 0;
  for (int i = 0; i < 4; ++i) len |= uint32_t{slot[static_cast<size_t>(i)]} << (8 * i);
  if (len == 0 || len > slot.size() - 4) return Status::Corruption("claim slot empty or torn");
  auto r = DecodeState(slot.subspan(4, len));
  if (r.ok() && r->seq == 0) return Status::Corruption("claim slot without a sequence number");
  return r;
}

Result<ClaimRecord> ReadClaimFile(const std::string& path) {
  auto data = ReadFile(path);
  if (!data.ok()) return data.status();
  const std::span<const uint8_t> file(*data);
  if (file.size() != 2 * kClaimSlotSize) {
    // The single-state format: seq 0, so the next save rewrites the file whole in slots.
    auto old = DecodeState(file);
    if (!old.ok()) return Status::Corruption(path + ": " + old.status().message());
    old->seq = 0;
    return old;
  }
  auto a = DecodeClaimSlot(file.first(kClaimSlotSize));
  auto b = DecodeClaimSlot(file.subspan(kClaimSlotSize));
  if (a.ok() && b.ok()) return a->seq > b->seq ? a : b;
  if (a.ok()) return a;
  if (b.ok()) return b;
  return Status::Corruption(path + ": both claim slots are damaged (" + a.status().message() +
                            "; " + b.status().message() + ")");
}

Status WriteClaimFile(const std::string& path, const ClaimState& state, uint64_t seq) {
  const std::vector<uint8_t> slot = EncodeClaimSlot(state, seq);
  if (seq <= 1) {
    const std::vector<uint8_t> empty(kClaimSlotSize, 0);
    return WriteFileAtomic(path, {slot, empty});
  }
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!file.valid()) return Errno("open", path);
  const int fd = file.get();
  const auto offset = static_cast<off_t>((seq % 2) * kClaimSlotSize);
  Status st;
  size_t done = 0;
  while (st.ok() && done < slot.size()) {
    const ssize_t n =
        ::pwrite(fd, slot.data() + done, slot.size() - done, offset + static_cast<off_t>(done));
    if (n < 0 && errno != EINTR) st = Errno("write", path);
    if (n > 0) done += static_cast<size_t>(n);
  }
  // fdatasync: the file's size and blocks do not change, so no metadata needs a journal commit.
  if (st.ok() && ::fdatasync(fd) != 0) st = FlushError("fdatasync", path);
  // Checked: the write is acknowledged as durable once this returns.
  if (Status closed = file.Close(path); !closed.ok() && st.ok()) st = closed;
  return st;
}

}  // namespace dstk::store
