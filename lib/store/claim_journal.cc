#include "store/claim_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "codec/crc32c.h"
#include "store/file_util.h"

namespace dstk::store {
namespace {

// The zeroed room kept ahead of the last record: about 800 claim-state changes. Small, so that a
// unit on a nearly full disk still has room for it.
constexpr uint64_t kChunk = 64u << 10;
constexpr uint32_t kMaxRecordBody = 1024;  // a name of at most kMaxNameLength and a state

uint32_t LoadLe32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

void StoreLe32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t RoundUpToChunk(uint64_t n) {
  return (n + kChunk - 1) / kChunk * kChunk;
}

Status WriteZeros(int fd, uint64_t from, uint64_t to, const std::string& path) {
  const std::vector<uint8_t> zeros(kChunk, 0);
  for (uint64_t at = from; at < to; at += kChunk) {
    DSTK_RETURN_IF_ERROR(PwriteAll(fd, zeros.data(), std::min(kChunk, to - at), at, path));
  }
  return Status::Ok();
}

// Parses the record at the start of `rest`. Returns its size in bytes, 0 at the end of the
// records (a zero length), or an error for a torn or damaged record.
Result<size_t> ParseRecord(std::span<const uint8_t> rest, JournalRecord& out) {
  if (rest.size() < 4) return size_t{0};  // the file ends in zeros of less than a length
  const uint32_t len = LoadLe32(rest.data());
  if (len == 0) return size_t{0};
  if (len > kMaxRecordBody || rest.size() < 8 + size_t{len})
    return Status::Corruption("record cut short");
  const auto body = rest.subspan(4, len);
  if (codec::Crc32c(body) != LoadLe32(rest.data() + 4 + len))
    return Status::Corruption("record CRC mismatch");
  auto oh = wire::mp::UnpackBounded(body);
  if (!oh.ok()) return Status::Corruption(oh.status().message());
  const msgpack::object& o = oh->get();
  if (o.type != msgpack::type::ARRAY || o.via.array.size != 2 ||
      o.via.array.ptr[0].type != msgpack::type::STR) {
    return Status::Corruption("bad record");
  }
  out.name = o.via.array.ptr[0].as<std::string>();
  auto state = ReadClaimState(o.via.array.ptr[1]);
  if (!state.ok()) return state.status();
  out.state = state->state;
  out.seq = state->seq;
  return 8 + size_t{len};
}

}  // namespace

std::vector<uint8_t> ClaimJournal::Encode(const JournalRecord& r) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  p.pack_array(2);
  p.pack(r.name);
  PackClaimState(p, r.state, r.seq);
  const std::span<const uint8_t> body(reinterpret_cast<const uint8_t*>(buf.data()), buf.size());
  std::vector<uint8_t> out;
  out.reserve(body.size() + 8);
  StoreLe32(out, static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  StoreLe32(out, codec::Crc32c(body));
  return out;
}

ClaimJournal::ClaimJournal(std::string path, UniqueFd fd, uint64_t end, uint64_t capacity,
                           bool torn)
    : path_(std::move(path)),
      fd_(std::move(fd)),
      end_(end),
      capacity_(capacity),
      base_(end),
      torn_(torn) {}

ClaimJournal::~ClaimJournal() = default;

Result<std::unique_ptr<ClaimJournal>> ClaimJournal::Open(
    const std::string& path, const std::function<void(JournalRecord&&)>& replay) {
  auto data = ReadFile(path);
  if (!data.ok() && data.status().code() == Code::kNotFound) {
    // Created by the first Sync: a unit that never sees a claim (or whose disk is full) opens
    // without writing anything.
    return std::unique_ptr<ClaimJournal>(new ClaimJournal(path, UniqueFd(), 0, 0, false));
  }
  if (!data.ok()) return data.status();
  const std::span<const uint8_t> file(*data);
  uint64_t end = 0;
  bool torn = false;
  while (end < file.size()) {
    JournalRecord r;
    auto size = ParseRecord(file.subspan(end), r);
    if (!size.ok()) {
      torn = true;
      break;
    }
    if (*size == 0) break;
    end += *size;
    replay(std::move(r));
  }
  UniqueFd opened(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!opened.valid()) return Errno("open", path);
  const int fd = opened.get();  // owned by the journal from the next line on
  std::unique_ptr<ClaimJournal> j(
      new ClaimJournal(path, std::move(opened), end, std::max<uint64_t>(file.size(), end), torn));
  if (torn) {
    // Zero from the last intact record on, so nothing of the torn write can be read again.
    DSTK_RETURN_IF_ERROR(WriteZeros(fd, end, file.size(), path));
    if (::fdatasync(fd) != 0) return FlushError("fdatasync", path);
  }
  return j;
}

void ClaimJournal::Add(const JournalRecord& r) {
  const std::vector<uint8_t> rec = Encode(r);
  pending_.insert(pending_.end(), rec.begin(), rec.end());
}

Status ClaimJournal::Sync() {
  if (pending_.empty()) return Status::Ok();
  if (!fd_.valid()) {
    const std::vector<uint8_t> zeros(kChunk, 0);
    DSTK_RETURN_IF_ERROR(WriteFileAtomic(path_, {zeros}));
    fd_.reset(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd_.valid()) return Errno("open", path_);
    capacity_ = kChunk;
  }
  const uint64_t new_end = end_ + pending_.size();
  // Grow with zeros before the records land, in the same flush: keep a chunk of room ahead.
  if (new_end + 4 > capacity_) {
    const uint64_t capacity = RoundUpToChunk(new_end + kChunk);
    DSTK_RETURN_IF_ERROR(WriteZeros(fd_.get(), capacity_, capacity, path_));
    capacity_ = capacity;
  }
  DSTK_RETURN_IF_ERROR(PwriteAll(fd_.get(), pending_.data(), pending_.size(), end_, path_));
  if (::fdatasync(fd_.get()) != 0) return FlushError("fdatasync", path_);
  end_ = new_end;
  pending_.clear();
  return Status::Ok();
}

Status ClaimJournal::Rewrite(const std::vector<JournalRecord>& live) {
  if (!pending_.empty()) return Status::Conflict("claim journal: rewrite with unsynced records");
  std::vector<uint8_t> content;
  for (const auto& r : live) {
    const std::vector<uint8_t> rec = Encode(r);
    content.insert(content.end(), rec.begin(), rec.end());
  }
  const uint64_t end = content.size();
  content.resize(RoundUpToChunk(end + kChunk), 0);
  DSTK_RETURN_IF_ERROR(WriteFileAtomic(path_, {content}));
  UniqueFd fd(::open(path_.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd.valid()) return Errno("open", path_);
  fd_ = std::move(fd);  // closes the old file's descriptor
  end_ = base_ = end;
  capacity_ = content.size();
  return Status::Ok();
}

}  // namespace dstk::store
