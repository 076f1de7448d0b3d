#include "store/pack_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "codec/crc32c.h"
#include "store/file_util.h"

namespace dstk::store {
namespace {

constexpr size_t kFrame = 8;                        // body length, body CRC
constexpr size_t kFixed = 1 + 2 + 8 + 4 + 4;        // kind, name length, rev, seg, data length
constexpr uint32_t kMaxBody = (64u << 20) + 65536;  // a slice up to the payload limit, and a name

void PutLe(std::vector<uint8_t>& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

uint64_t GetLe(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

bool ValidKind(uint8_t k) {
  return k >= 1 && k <= 3;
}

// Parses the record at the start of `rest`; its length, or 0 when it is not an intact record.
size_t ParseRecord(std::span<const uint8_t> rest, uint32_t pack, uint64_t at, PackRecord& r) {
  if (rest.size() < kFrame + kFixed) return 0;
  const auto body_len = static_cast<uint32_t>(GetLe(rest.data(), 4));
  const auto crc = static_cast<uint32_t>(GetLe(rest.data() + 4, 4));
  if (body_len < kFixed || body_len > kMaxBody || rest.size() - kFrame < body_len) return 0;
  const auto body = rest.subspan(kFrame, body_len);
  if (codec::Crc32c(body) != crc) return 0;
  const uint8_t kind = body[0];
  const auto name_len = static_cast<size_t>(GetLe(body.data() + 1, 2));
  const auto data_len = static_cast<uint32_t>(GetLe(body.data() + 15, 4));
  if (!ValidKind(kind) || kFixed + name_len + data_len != body_len) return 0;
  r.kind = static_cast<PackKind>(kind);
  r.rev = GetLe(body.data() + 3, 8);
  r.seg = static_cast<uint32_t>(GetLe(body.data() + 11, 4));
  r.name.assign(reinterpret_cast<const char*>(body.data() + kFixed), name_len);
  r.data = {pack, at + kFrame + kFixed + name_len, data_len};
  r.bytes = body.subspan(kFixed + name_len, data_len);
  return kFrame + body_len;
}

bool ParsePackName(const char* file, uint32_t& number) {
  unsigned n = 0;
  int used = 0;
  if (std::sscanf(file, "%8x.pack%n", &n, &used) != 1 || used != 13 || file[used] != '\0') {
    return false;
  }
  number = n;
  return true;
}

}  // namespace

PackLog::~PackLog() {
  // Lazy records still waiting go to the file on a clean stop (unchecked: a lost one is
  // redone at the next open, as after a crash). Each Pack's descriptor closes with it.
  (void)WriteLazy();
}

std::string PackLog::PathOf(uint32_t pack) const {
  char name[32];
  std::snprintf(name, sizeof name, "%08x.pack", pack);
  return dir_ + "/" + name;
}

Result<std::unique_ptr<PackLog>> PackLog::Open(
    const std::string& dir, const std::function<void(const PackRecord&)>& replay) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Errno("mkdir", dir);
  std::unique_ptr<PackLog> log(new PackLog(dir));
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Errno("opendir", dir);
  std::vector<uint32_t> numbers;
  while (dirent* ent = ::readdir(d)) {
    uint32_t n = 0;
    if (ParsePackName(ent->d_name, n)) numbers.push_back(n);
  }
  ::closedir(d);
  std::sort(numbers.begin(), numbers.end());
  for (size_t i = 0; i < numbers.size(); ++i) {
    DSTK_RETURN_IF_ERROR(log->Replay(numbers[i], i + 1 == numbers.size(), replay));
  }
  return log;
}

Status PackLog::Replay(uint32_t number, bool newest,
                       const std::function<void(const PackRecord&)>& replay) {
  const std::string path = PathOf(number);
  auto data = ReadFile(path);
  if (!data.ok()) return data.status();
  const std::span<const uint8_t> file(*data);
  uint64_t at = 0;
  Pack p;
  while (at < file.size()) {
    PackRecord r;
    const size_t len = ParseRecord(file.subspan(at), number, at, r);
    if (len == 0) break;
    if (r.kind == PackKind::kSlice || r.kind == PackKind::kManifest) p.live += r.data.size;
    replay(r);
    at += len;
  }
  p.fd.reset(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!p.fd.valid()) return Errno("open", path);
  p.size = at;
  if (at < file.size()) {
    if (newest) {
      // The tail of a write a crash cut short: never acknowledged. Cut off before appending, so
      // nothing of it can ever be read as a record.
      torn_tail_bytes_ = file.size() - at;
      if (::ftruncate(p.fd.get(), static_cast<off_t>(at)) != 0 || ::fdatasync(p.fd.get()) != 0) {
        return Errno("truncate", path);
      }
    } else {
      damaged_.push_back(path + ": unreadable from byte " + std::to_string(at) + " of " +
                         std::to_string(file.size()));
      p.size = file.size();  // appended to no more; compaction keeps only what was read
    }
  }
  packs_[number] = std::move(p);
  return Status::Ok();
}

Status PackLog::StartPack() {
  const uint32_t number = packs_.empty() ? 1 : packs_.rbegin()->first + 1;
  const std::string path = PathOf(number);
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd.valid()) return Errno("create", path);
  packs_[number] = Pack{std::move(fd), 0, 0};
  dir_unsynced_ = true;
  return Status::Ok();
}

Result<PackRef> PackLog::Append(PackKind kind, const std::string& name, uint64_t rev, uint32_t seg,
                                const std::vector<std::span<const uint8_t>>& data, bool lazy) {
  const size_t data_len = std::accumulate(data.begin(), data.end(), size_t{0},
                                          [](size_t sum, const auto& d) { return sum + d.size(); });
  if (name.size() > 0xffff || kFixed + name.size() + data_len > kMaxBody) {
    return Status::Invalid("pack record too large");
  }
  if (packs_.empty() || packs_.rbegin()->second.size + unwritten_.size() >= kPackBytes) {
    // A full pack is never appended to again, so no later record would flush its lazy tail:
    // the next Sync does, or a crash would leave a torn record in an older pack (reported as
    // damage at the next open).
    DSTK_RETURN_IF_ERROR(WriteLazy());
    if (!packs_.empty() && packs_.rbegin()->second.lazy_tail)
      unsynced_.insert(packs_.rbegin()->first);
    DSTK_RETURN_IF_ERROR(StartPack());
  }
  const uint32_t number = packs_.rbegin()->first;
  Pack& p = packs_.rbegin()->second;
  if (lazy && unwritten_.size() >= kLazyBytes) DSTK_RETURN_IF_ERROR(WriteLazy());
  // Every record is framed at the end of unwritten_: a lazy one stays there, and any other leaves
  // with the lazy records before it, in one write.
  std::vector<uint8_t>& rec = unwritten_;
  const size_t waiting = rec.size();
  const size_t body_len = kFixed + name.size() + data_len;
  if (rec.capacity() < waiting + kFrame + body_len)
    rec.reserve(std::max(waiting + kFrame + body_len, 2 * rec.capacity()));
  PutLe(rec, body_len, 4);
  PutLe(rec, 0, 4);  // the CRC, below
  rec.push_back(static_cast<uint8_t>(kind));
  PutLe(rec, name.size(), 2);
  PutLe(rec, rev, 8);
  PutLe(rec, seg, 4);
  PutLe(rec, data_len, 4);
  rec.insert(rec.end(), name.begin(), name.end());
  for (const auto& d : data) rec.insert(rec.end(), d.begin(), d.end());
  const uint32_t crc = codec::Crc32c({rec.data() + waiting + kFrame, body_len});
  for (int i = 0; i < 4; ++i) rec[waiting + 4 + i] = static_cast<uint8_t>(crc >> (8 * i));
  const PackRef ref{number, p.size + waiting + kFrame + kFixed + name.size(),
                    static_cast<uint32_t>(data_len)};
  if (lazy) {
    if (kind == PackKind::kSlice || kind == PackKind::kManifest) p.live += data_len;
    p.lazy_tail = true;
    return ref;
  }
  // Nothing of a failed append may stay: the next record is written where this one started.
  // The lazy records that went with it are lost, as in a crash: the store redoes them at open.
  DSTK_RETURN_IF_ERROR(WriteLazy());
  if (kind == PackKind::kSlice || kind == PackKind::kManifest) p.live += data_len;
  unsynced_.insert(number);
  return ref;
}

Status PackLog::WriteLazy() {
  if (unwritten_.empty() || packs_.empty()) return Status::Ok();
  const uint32_t number = packs_.rbegin()->first;
  Pack& p = packs_.rbegin()->second;
  Status st = PwriteAll(p.fd.get(), unwritten_.data(), unwritten_.size(), p.size, PathOf(number));
  const size_t written = unwritten_.size();
  unwritten_.clear();  // kept allocated for the next records, unless a large one grew it
  if (unwritten_.capacity() > 4 * kLazyBytes) unwritten_.shrink_to_fit();
  if (!st.ok()) {
    // Unchecked: should the truncate fail too, the next append overwrites the same bytes, and
    // a torn tail left after the last record is cut off by the next Open (Replay).
    (void)::ftruncate(p.fd.get(), static_cast<off_t>(p.size));
    return st;
  }
  p.size += written;
  return Status::Ok();
}

Status PackLog::Sync() {
  // Lazy records are written (not flushed: their pack is not unsynced for them), so that what
  // waits in memory stays within one group of requests.
  DSTK_RETURN_IF_ERROR(WriteLazy());
  // Every pack appended to since the last Sync: a group may span a roll-over.
  for (auto it = unsynced_.begin(); it != unsynced_.end();) {
    auto pack = packs_.find(*it);
    if (pack != packs_.end() && ::fdatasync(pack->second.fd.get()) != 0) {
      return FlushError("fdatasync", PathOf(*it));
    }
    if (pack != packs_.end()) pack->second.lazy_tail = false;
    it = unsynced_.erase(it);
  }
  if (dir_unsynced_) {
    DSTK_RETURN_IF_ERROR(SyncDir(dir_));
    dir_unsynced_ = false;
  }
  return Status::Ok();
}

Result<std::vector<uint8_t>> PackLog::Read(const PackRef& ref) const {
  auto it = packs_.find(ref.pack);
  if (it == packs_.end()) return Status::NotFound("no pack " + std::to_string(ref.pack));
  const Pack& p = it->second;
  const uint64_t end = ref.offset + ref.size;
  if (end > p.size)
    return Status::Corruption(PathOf(ref.pack) + ": record past the end of the pack");
  ReadWindow& w = window_;
  const bool in_window =
      w.pack == ref.pack && ref.offset >= w.offset && end <= w.offset + w.bytes.size();
  // Records read in the order they were appended (a claim walking its queue) are read ahead a
  // window at a time: one pread for many records instead of one each.
  const bool sequential =
      w.pack == ref.pack && ref.offset >= w.last_end && ref.offset - w.last_end <= kReadGap;
  if (!in_window && !sequential) {
    std::vector<uint8_t> bytes(ref.size);
    w = ReadWindow{.pack = ref.pack, .offset = 0, .bytes = {}, .last_end = end};
    DSTK_RETURN_IF_ERROR(
        PreadAll(p.fd.get(), bytes.data(), bytes.size(), ref.offset, PathOf(ref.pack)));
    return bytes;
  }
  if (!in_window) {
    w.offset = ref.offset;
    w.bytes.resize(
        std::min<uint64_t>(std::max<uint64_t>(ref.size, kReadAhead), p.size - ref.offset));
    if (Status st =
            PreadAll(p.fd.get(), w.bytes.data(), w.bytes.size(), ref.offset, PathOf(ref.pack));
        !st.ok()) {
      w = ReadWindow{};  // what it holds is not the file's
      return st;
    }
  }
  w.last_end = end;
  const auto* first = w.bytes.data() + (ref.offset - w.offset);
  return std::vector<uint8_t>(first, first + ref.size);
}

void PackLog::Dead(const PackRef& ref) {
  auto it = packs_.find(ref.pack);
  if (it != packs_.end()) it->second.live -= std::min<uint64_t>(it->second.live, ref.size);
}

std::optional<uint32_t> PackLog::CompactionCandidate() const {
  if (packs_.size() < 2) return std::nullopt;
  const auto& [number, p] = *packs_.begin();
  if (p.live * 2 >= p.size) return std::nullopt;
  return number;
}

Status PackLog::RemoveOldest(uint32_t pack) {
  if (packs_.empty() || packs_.begin()->first != pack || packs_.size() < 2) {
    return Status::Invalid("only the oldest pack, not the one appended to, can be removed");
  }
  const std::string path = PathOf(pack);
  if (window_.pack == pack) window_ = ReadWindow{};
  packs_.erase(packs_.begin());  // closes its descriptor
  DSTK_RETURN_IF_ERROR(RemoveFile(path));
  return SyncDir(dir_);
}

uint64_t PackLog::bytes() const {
  uint64_t total = 0;
  for (const auto& [n, p] : packs_) total += p.size;
  total += unwritten_.size();
  return total;
}

}  // namespace dstk::store
