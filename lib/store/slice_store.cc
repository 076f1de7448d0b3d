#include "store/slice_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iterator>

#include "codec/crc32c.h"
#include "store/claim_file.h"
#include "store/file_util.h"
#include "store/slice_file.h"
#include "store/unit_id.h"
#include "wire/limits.h"
#include "wire/msgpack_fields.h"
#include "wire/name.h"

namespace dstk::store {
namespace {

uint64_t NowSeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Manifest file: the msgpack manifest followed by its CRC32C, little-endian.
std::string EncodeManifestFile(const wire::Manifest& m) {
  msgpack::sbuffer buf;
  wire::mp::Packer p(buf);
  wire::mp::PackManifest(p, m);
  return WithCrc({buf.data(), buf.size()});
}

Status DecodeManifestFile(std::span<const uint8_t> file, wire::Manifest& m) {
  auto body = BodyIfCrcMatches(file, "manifest");
  if (!body.ok()) return body.status();
  auto oh = wire::mp::UnpackBounded(*body);
  if (!oh.ok()) return Status::Corruption(oh.status().message());
  return wire::mp::ReadManifest(oh->get(), m);
}

bool ParseHex(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 16) return false;
  out = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9')
      d = c - '0';
    else if (c >= 'a' && c <= 'f')
      d = c - 'a' + 10;
    else
      return false;
    out = out << 4 | static_cast<uint64_t>(d);
  }
  return true;
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

std::string SliceFileName(uint64_t rev, uint32_t seg) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 ".%08" PRIx32 ".slice", rev, seg);
  return buf;
}

std::string ManifestFileName(uint64_t rev) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 ".manifest", rev);
  return buf;
}

SliceStore::SliceStore(std::string dir, UniqueFd lock)
    : dir_(std::move(dir)), lock_fd_(std::move(lock)), started_s_(NowSeconds()) {}

SliceStore::~SliceStore() = default;

Result<std::unique_ptr<SliceStore>> SliceStore::Open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  DSTK_RETURN_IF_ERROR(MakeDirs(dir, "objects"));
  const std::string lock = dir + "/LOCK";
  UniqueFd fd(::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::IoError("cannot open " + lock + ": " + std::strerror(errno));
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    return Status::Conflict(dir + " is already served by another dsnode (LOCK is held)");
  }
  std::unique_ptr<SliceStore> store(new SliceStore(dir, std::move(fd)));
  auto id = LoadOrCreateUnitId(dir);
  if (!id.ok()) return id.status();
  store->unit_id_ = std::move(id).value();
  DSTK_RETURN_IF_ERROR(store->Scan(""));
  DSTK_RETURN_IF_ERROR(store->OpenPacks());
  DSTK_RETURN_IF_ERROR(store->OpenClaimJournal());
  DSTK_RETURN_IF_ERROR(store->DropFinishedSlices());
  for (const auto& [name, e] : store->index_) {
    if (e.committed && !Finished(e)) store->listable_.insert(name);
  }
  return store;
}

std::string SliceStore::ObjectDir(const std::string& name) const {
  return dir_ + "/objects/" + name;
}

Status SliceStore::Scan(const std::string& relative) {
  const std::string path = relative.empty() ? dir_ + "/objects" : ObjectDir(relative);
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return Status::IoError("cannot read " + path + ": " + std::strerror(errno));
  std::vector<std::string> children, files;
  while (dirent* ent = ::readdir(d)) {
    std::string entry = ent->d_name;
    if (entry == "." || entry == "..") continue;
    struct stat sb {};
    if (::fstatat(::dirfd(d), ent->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (S_ISDIR(sb.st_mode))
      children.push_back(entry);
    else if (S_ISREG(sb.st_mode))
      files.push_back(entry);
  }
  ::closedir(d);
  for (const auto& f : files) {
    if (f.rfind(kTempPrefix, 0) == 0) {
      DSTK_RETURN_IF_ERROR(RemoveFile(path + "/" + f));  // a write cut short by a crash
    } else if (!relative.empty()) {
      DSTK_RETURN_IF_ERROR(IndexFile(relative, f));
    }
  }
  for (const auto& c : children) {
    DSTK_RETURN_IF_ERROR(Scan(relative.empty() ? c : relative + "/" + c));
  }
  return Status::Ok();
}

Status SliceStore::IndexFile(const std::string& name, const std::string& file) {
  const std::string path = ObjectDir(name) + "/" + file;
  if (file == kClaimFileName) {
    // A bad claim state is bitrot: refusing to start is safer than forgetting a promise, which
    // could let two claimers win.
    auto c = ReadClaimFile(path);
    if (!c.ok()) {
      return Status::Corruption(c.status().message() +
                                "; move the file aside to serve this unit (see dsnode(8))");
    }
    index_[name].claim = c->state;
    index_[name].claim_seq = c->seq;
    return Status::Ok();
  }
  const size_t dot = file.find('.');
  uint64_t rev = 0, seg = 0;
  if (dot == std::string::npos || !ParseHex(std::string_view(file).substr(0, dot), rev)) {
    return Status::Ok();  // not ours (".corrupt" files, an operator's notes): leave it alone
  }
  const std::string rest = file.substr(dot + 1);
  if (rest == "manifest") {
    auto data = ReadFile(path);
    if (!data.ok()) return data.status();
    wire::Manifest m;
    if (!DecodeManifestFile(*data, m).ok() || m.rev != rev) {
      ::rename(path.c_str(), (path + ".corrupt").c_str());
      return Status::Ok();
    }
    // Two manifests mean a crash between publishing one and removing the other: keep the newer.
    Entry& e = index_[name];
    if (e.committed && e.committed->rev > m.rev) return RemoveFile(path);
    if (e.committed)
      DSTK_RETURN_IF_ERROR(RemoveFile(ObjectDir(name) + "/" + ManifestFileName(e.committed->rev)));
    e.committed = m;
    return Status::Ok();
  }
  const size_t dot2 = rest.find('.');
  if (dot2 == std::string::npos || rest.substr(dot2) != ".slice" ||
      !ParseHex(std::string_view(rest).substr(0, dot2), seg)) {
    return Status::Ok();
  }
  struct stat sb {};
  if (::stat(path.c_str(), &sb) != 0) return Status::Ok();
  // Slices are not re-read at start (that would make start-up read the whole disk); their CRC
  // is checked on every read and by `stat --verify`.
  index_[name].held[rev][static_cast<uint32_t>(seg)] = static_cast<uint64_t>(sb.st_size);
  return Status::Ok();
}

Status SliceStore::MakeObjectDir(const std::string& name) {
  std::vector<std::string> parents;
  Status st = MakeDirs(dir_ + "/objects", name, &parents);
  for (const auto& p : parents) staged_.DirChanged(p);
  return st;
}

Status SliceStore::PutSlice(const codec::SliceHeader& h, std::span<const uint8_t> payload,
                            uint64_t token, bool pack) {
  DSTK_RETURN_IF_ERROR(wire::ValidateName(h.name));
  DSTK_RETURN_IF_ERROR(codec::VerifySlice(h, payload));
  auto it = index_.find(h.name);
  if (it != index_.end() && it->second.committed && it->second.committed->rev > h.rev) {
    return Status::Conflict("revision " + std::to_string(h.rev) + " of " + h.name +
                            " is older than the committed one");
  }
  if (it != index_.end() && it->second.committed && it->second.committed->token > token) {
    return Status::Fenced("fenced: " + h.name + " was written with claim token " +
                          std::to_string(it->second.committed->token) + ", this write has " +
                          std::to_string(token));
  }
  const std::string prefix = EncodeSliceFilePrefix(h);
  const std::string path = ObjectDir(h.name) + "/" + SliceFileName(h.rev, h.seg);
  if (pack && h.segs == 1 && prefix.size() + payload.size() <= kMaxPackedSlice) {
    auto ref = packs_->Append(PackKind::kSlice, h.name, h.rev, h.seg, {Bytes(prefix), payload});
    if (!ref.ok()) return ref.status();
    drops_after_commit_.erase({h.name, h.rev, h.seg});  // this record supersedes it at replay
    Entry& e = index_[h.name];
    auto [at, fresh] = e.packed.try_emplace({h.rev, h.seg}, *ref);
    if (!fresh) {
      packs_->Dead(at->second);
      at->second = *ref;
    } else if (e.held.count(h.rev) != 0 && e.held[h.rev].count(h.seg) != 0) {
      DSTK_RETURN_IF_ERROR(staged_.Remove(path));  // put as a file before: the pack has it now
    }
    e.held[h.rev][h.seg] = prefix.size() + payload.size();
    return Status::Ok();
  }
  DSTK_RETURN_IF_ERROR(MakeObjectDir(h.name));
  DSTK_RETURN_IF_ERROR(staged_.Write(path, {Bytes(prefix), payload}));
  Entry& e = index_[h.name];
  if (e.packed.count({h.rev, h.seg}) != 0) {
    // Packed before: the file is the slice now. A drop record once the file is durable, so a
    // restart agrees.
    DSTK_RETURN_IF_ERROR(DropSlice(h.name, e, h.rev, h.seg, /*staged=*/true));
  }
  e.held[h.rev][h.seg] = prefix.size() + payload.size();
  return Status::Ok();
}

void SliceStore::Forget(const std::string& name, uint64_t rev, uint32_t seg) {
  auto it = index_.find(name);
  if (it == index_.end()) return;
  auto r = it->second.held.find(rev);
  if (r == it->second.held.end()) return;
  r->second.erase(seg);
  if (r->second.empty()) it->second.held.erase(r);
  if (it->second.held.empty() && !it->second.committed) index_.erase(it);
}

Status SliceStore::GetSlice(const std::string& name, uint64_t rev, uint32_t seg,
                            codec::SliceHeader& h, std::vector<uint8_t>& file,
                            std::span<const uint8_t>& payload) {
  auto it = index_.find(name);
  if (it == index_.end()) return Status::NotFound("no object " + name + " on this unit");
  auto r = it->second.held.find(rev);
  if (r == it->second.held.end() || !r->second.count(seg)) {
    return Status::NotFound("no slice " + std::to_string(seg) + " of revision " +
                            std::to_string(rev) + " of " + name + " on this unit");
  }
  Entry& e = it->second;
  const auto packed = e.packed.find({rev, seg});
  const std::string path = packed != e.packed.end()
                               ? std::string()
                               : staged_.ReadPath(ObjectDir(name) + "/" + SliceFileName(rev, seg));
  auto data = packed != e.packed.end() ? packs_->Read(packed->second) : ReadFile(path);
  if (!data.ok()) {
    if (data.status().code() == Code::kNotFound) Forget(name, rev, seg);
    return data.status();
  }
  file = std::move(data).value();
  Status st = DecodeSliceFile(file, h, payload);
  if (st.ok() && (h.name != name || h.rev != rev || h.seg != seg)) {
    st = Status::Corruption("slice file holds a different slice");
  }
  if (!st.ok()) {
    const std::string final_path = ObjectDir(name) + "/" + SliceFileName(rev, seg);
    std::string where = path;
    if (packed != e.packed.end()) {
      where = dir_ + "/packs: slice " + std::to_string(seg) + " of revision " +
              std::to_string(rev) + " of " + name;
      // A drop record: never served again. Should it fail, the Corruption below still reaches
      // the caller and the next read finds the slice bad and tries again: safe to ignore.
      (void)DropSlice(name, e, rev, seg, /*staged=*/true);
    } else if (path != final_path) {
      // Not written yet: nothing to keep for forensics. Ignored because the Corruption below is
      // the error that matters, and Forget() stops the slice being served either way.
      (void)staged_.Remove(final_path);
    } else {
      ::rename(path.c_str(), (path + ".corrupt").c_str());  // kept for forensics, never served
    }
    Forget(name, rev, seg);
    return Status::Corruption(where + ": " + st.message());
  }
  return Status::Ok();
}

Status SliceStore::DeleteRevision(const std::string& name, uint64_t rev, bool moved) {
  auto it = index_.find(name);
  if (it == index_.end()) return Status::NotFound("no object " + name + " on this unit");
  const bool committed = it->second.committed && it->second.committed->rev == rev;
  if (committed && !moved) {
    return Status::Conflict("revision " + std::to_string(rev) + " of " + name +
                            " is committed; only a pending revision can be deleted");
  }
  if (committed) return DropMoved(name, it->second);
  auto r = it->second.held.find(rev);
  if (r == it->second.held.end()) return Status::NotFound("no such revision on this unit");
  std::vector<uint32_t> segs;
  for (const auto& [seg, bytes] : r->second) segs.push_back(seg);
  for (uint32_t seg : segs) {
    DSTK_RETURN_IF_ERROR(DropSlice(name, it->second, rev, seg, /*staged=*/true));
  }
  it->second.held.erase(rev);
  if (it->second.held.empty() && !it->second.committed) index_.erase(it);
  return Status::Ok();
}

Status SliceStore::DropMoved(const std::string& name, Entry& e) {
  if (e.packed_manifest || e.claim) {
    return Status::Invalid(name +
                           " is a function (its claim state lives on this unit): "
                           "functions are not moved");
  }
  const uint64_t rev = e.committed->rev;
  // Everything of the object goes, at the next SyncFiles: its slices of every revision and the
  // manifest. The new home has it published already (the client drops only after that).
  for (const auto& [held_rev, segs] : e.held) {
    for (const auto& [seg, bytes] : segs) {
      DSTK_RETURN_IF_ERROR(DropSlice(name, e, held_rev, seg, /*staged=*/true));
    }
  }
  DSTK_RETURN_IF_ERROR(staged_.Remove(ObjectDir(name) + "/" + ManifestFileName(rev)));
  listable_.erase(name);
  index_.erase(name);
  return Status::Ok();
}

Status SliceStore::DropSlice(const std::string& name, Entry& e, uint64_t rev, uint32_t seg,
                             bool staged) {
  if (auto at = e.packed.find({rev, seg}); at != e.packed.end()) {
    if (staged) {
      // The drop may depend on a staged write (a publish whose manifest is a file): its record
      // goes to the pack only after that write is durable (SyncFiles), or a crash in between
      // could keep the drop and lose the write.
      drops_after_commit_.insert({name, rev, seg});
    } else {
      // Not staged: the drop of a finished function's slice, which open redoes if a crash
      // loses the record (DropFinishedSlices), or of an unreadable slice of the pack being
      // compacted away (gone with that pack); neither needs a flush of its own.
      DSTK_RETURN_IF_ERROR(
          packs_->Append(PackKind::kDropSlice, name, rev, seg, {}, /*lazy=*/true).status());
    }
    packs_->Dead(at->second);
    e.packed.erase(at);
    return Status::Ok();
  }
  const std::string path = ObjectDir(name) + "/" + SliceFileName(rev, seg);
  return staged ? staged_.Remove(path) : RemoveFile(path);
}

Status SliceStore::DropOlder(const std::string& name, Entry& e, uint64_t rev, bool staged) {
  for (auto r = e.held.begin(); r != e.held.end() && r->first < rev;) {
    for (const auto& [seg, bytes] : r->second) {
      DSTK_RETURN_IF_ERROR(DropSlice(name, e, r->first, seg, staged));
    }
    r = e.held.erase(r);
  }
  return Status::Ok();
}

Status SliceStore::Publish(const std::string& name, const wire::Manifest& m) {
  DSTK_RETURN_IF_ERROR(wire::ValidateName(name));
  auto it = index_.find(name);
  if (it != index_.end() && it->second.committed) {
    const uint64_t current = it->second.committed->rev;
    if (it->second.committed->token > m.token) {
      return Status::Fenced("fenced: " + name + " was written with claim token " +
                            std::to_string(it->second.committed->token) + ", this write has " +
                            std::to_string(m.token));
    }
    if (current == m.rev && m.pgen <= it->second.committed->pgen) return Status::Ok();
    if (current > m.rev) {
      return Status::Conflict("a newer revision of " + name + " is already committed");
    }
  }
  const std::string obj_dir = ObjectDir(name);
  const std::string body = EncodeManifestFile(m);
  // The manifest goes where the revision's slices are: a pack when they are packed (a function),
  // or when a packed object gets a tombstone; else a file.
  const Entry* known = it != index_.end() ? &it->second : nullptr;
  bool packed = false;
  if (known != nullptr) {
    auto held = known->held.find(m.rev);
    packed = held != known->held.end()
                 ? known->packed.count({m.rev, held->second.begin()->first}) != 0
                 : known->packed_manifest.has_value();
  }
  std::optional<PackRef> ref;
  if (packed) {
    auto appended = packs_->Append(PackKind::kManifest, name, m.rev, 0, {Bytes(body)});
    if (!appended.ok()) return appended.status();
    ref = *appended;
  } else {
    DSTK_RETURN_IF_ERROR(MakeObjectDir(name));
    DSTK_RETURN_IF_ERROR(staged_.Write(obj_dir + "/" + ManifestFileName(m.rev), {Bytes(body)}));
  }
  Entry& e = index_[name];
  const std::optional<wire::Manifest> previous = e.committed;
  const std::optional<PackRef> previous_ref = e.packed_manifest;
  e.committed = m;
  e.packed_manifest = ref;
  if (!Finished(e)) listable_.insert(name);
  // A packed previous manifest is superseded by revision (a later record wins at open); a file
  // is removed at the commit that makes the new manifest durable, not before (staged_files.h).
  if (previous_ref) {
    packs_->Dead(*previous_ref);
  } else if (previous && previous->rev != m.rev) {
    // (The same revision's manifest file was just replaced in place, by rename.)
    DSTK_RETURN_IF_ERROR(staged_.Remove(obj_dir + "/" + ManifestFileName(previous->rev)));
  }
  return DropOlder(name, e, m.rev, /*staged=*/true);
}

Result<ObjectState> SliceStore::Stat(const std::string& name, bool verify) {
  auto it = index_.find(name);
  if (it == index_.end()) return Status::NotFound("no object " + name + " on this unit");
  ObjectState out;
  out.committed = it->second.committed;
  // Copy the keys first: verifying may forget bad slices and so change the index.
  std::vector<std::pair<uint64_t, std::vector<uint32_t>>> revs;
  for (const auto& [rev, segs] : it->second.held) {
    std::vector<uint32_t> s;
    for (const auto& [seg, bytes] : segs) s.push_back(seg);
    revs.emplace_back(rev, std::move(s));
  }
  for (const auto& [rev, segs] : revs) {
    wire::HeldRevision held{rev, 0, 0};
    for (uint32_t seg : segs) {
      if (!verify) {
        ++held.slices;
        continue;
      }
      codec::SliceHeader h;
      std::vector<uint8_t> file;
      std::span<const uint8_t> payload;
      Status st = GetSlice(name, rev, seg, h, file, payload);
      if (st.ok())
        ++held.slices;
      else if (st.code() == Code::kCorruption)
        ++held.bad;
      else if (st.code() != Code::kNotFound)
        return st;
    }
    out.held.push_back(held);
  }
  return out;
}

ListPage SliceStore::List(const std::string& prefix, const std::string& after, size_t limit,
                          size_t max_bytes, wire::ListLane lane) const {
  ListPage page;
  size_t bytes = 0;
  const bool filtered = lane.lanes > 1;
  size_t scan_left =
      filtered ? std::max<size_t>(limit, 1) * lane.lanes * wire::kListScanPerLane : SIZE_MAX;
  // Walks listable_, not index_: a drained queue keeps its consumed functions in the index (they
  // are the protocol's acceptors) and a listing from the head must not step over all of them.
  auto it = after.empty() || after < prefix ? listable_.lower_bound(prefix)
                                            : listable_.upper_bound(after);
  for (; it != listable_.end() && it->compare(0, prefix.size(), prefix) == 0; ++it) {
    if (filtered) {
      if (scan_left-- == 0) {
        page.more = true;
        page.scanned = *std::prev(it);
        break;
      }
      if (wire::LaneOf(*it, lane.lanes) != lane.lane) continue;
    }
    const Entry& e = index_.at(*it);
    bytes += it->size() + kListEntryOverhead;
    if (page.entries.size() == limit || (bytes > max_bytes && !page.entries.empty())) {
      page.more = true;
      break;
    }
    page.entries.push_back({*it, *e.committed});
  }
  return page;
}

Status SliceStore::OpenPacks() {
  // Replay runs before packs_ is set: what it finds superseded is marked dead afterwards.
  std::vector<PackRef> dead;
  auto replay = [this, &dead](const PackRecord& r) {
    switch (r.kind) {
      case PackKind::kSlice: {
        Entry& e = index_[r.name];
        auto [at, fresh] = e.packed.try_emplace({r.rev, r.seg}, r.data);
        if (!fresh) {
          dead.push_back(at->second);
          at->second = r.data;
        } else if (auto held = e.held.find(r.rev);
                   held != e.held.end() && held->second.count(r.seg) != 0) {
          // A file of the same slice (scanned before the packs): a crash came before its
          // removal. The record is the slice now; the file goes at the next flush.
          // Ignored: should it fail, the stale file is found again at the next Open() and the
          // record supersedes it again; it is never served meanwhile.
          (void)staged_.Remove(ObjectDir(r.name) + "/" + SliceFileName(r.rev, r.seg));
        }
        e.held[r.rev][r.seg] = r.data.size;
        return;
      }
      case PackKind::kDropSlice: {
        auto it = index_.find(r.name);
        if (it == index_.end()) return;
        auto at = it->second.packed.find({r.rev, r.seg});
        if (at == it->second.packed.end()) return;
        dead.push_back(at->second);
        it->second.packed.erase(at);
        Forget(r.name, r.rev, r.seg);
        return;
      }
      case PackKind::kManifest: {
        wire::Manifest m;
        if (!DecodeManifestFile(r.bytes, m).ok() || m.rev != r.rev) {
          dead.push_back(r.data);  // bitrot inside a record whose frame CRC passed: unusable
          return;
        }
        Entry& e = index_[r.name];
        if (e.committed && e.committed->rev == m.rev && e.packed_manifest) {
          dead.push_back(*e.packed_manifest);  // the same manifest again (moved by compaction)
          e.packed_manifest = r.data;
          return;
        }
        if (e.committed && e.committed->rev >= m.rev) {
          dead.push_back(r.data);
          return;
        }
        if (e.packed_manifest) {
          dead.push_back(*e.packed_manifest);
        } else if (e.committed) {
          // A manifest file older than this record: a crash came before the file's removal.
          // Ignored: should it fail, the older file is found again at the next Open() and this
          // record supersedes it again.
          (void)staged_.Remove(ObjectDir(r.name) + "/" + ManifestFileName(e.committed->rev));
        }
        e.committed = m;
        e.packed_manifest = r.data;
        return;
      }
    }
  };
  auto opened = PackLog::Open(dir_ + "/packs", replay);
  if (!opened.ok()) return opened.status();
  packs_ = std::move(opened).value();
  for (const auto& ref : dead) packs_->Dead(ref);
  // Slices of revisions older than the committed one: a crash cut off their drop records.
  for (auto& [name, e] : index_) {
    if (e.committed && !e.packed.empty()) {
      DSTK_RETURN_IF_ERROR(DropOlder(name, e, e.committed->rev, /*staged=*/true));
    }
  }
  return Status::Ok();
}

Status SliceStore::SyncFiles() {
  // Packs first: a manifest appended to a pack may replace a manifest file that the staged
  // commit removes, and that removal must come after the record is durable.
  DSTK_RETURN_IF_ERROR(packs_->Sync());
  DSTK_RETURN_IF_ERROR(staged_.Commit());
  if (drops_after_commit_.empty()) return Status::Ok();
  for (auto it = drops_after_commit_.begin(); it != drops_after_commit_.end();) {
    const auto& [name, rev, seg] = *it;
    DSTK_RETURN_IF_ERROR(packs_->Append(PackKind::kDropSlice, name, rev, seg).status());
    it = drops_after_commit_.erase(it);
  }
  return packs_->Sync();
}

Result<bool> SliceStore::CompactPacks() {
  const std::optional<uint32_t> oldest = packs_->CompactionCandidate();
  if (!oldest) return false;
  // Each live record of the oldest pack is appended again (to the newest) before the pack goes.
  // A crash in between leaves both copies; replay takes the later one.
  auto move = [&](PackKind kind, const std::string& name, uint64_t rev, uint32_t seg,
                  PackRef& ref) -> Status {
    auto data = packs_->Read(ref);
    if (!data.ok()) return data.status();
    auto moved = packs_->Append(kind, name, rev, seg, {*data});
    if (!moved.ok()) return moved.status();
    ref = *moved;
    return Status::Ok();
  };
  for (auto& [name, e] : index_) {
    std::vector<std::pair<uint64_t, uint32_t>> unreadable;
    for (auto& [key, ref] : e.packed) {
      if (ref.pack != *oldest) continue;
      Status st = move(PackKind::kSlice, name, key.first, key.second, ref);
      if (st.code() == Code::kLimit) return st;  // a full disk: try again later
      // A slice that cannot be read is dropped (the other units have theirs); keeping it would
      // stall compaction for good.
      if (!st.ok()) unreadable.push_back(key);
    }
    for (const auto& [rev, seg] : unreadable) {
      DSTK_RETURN_IF_ERROR(DropSlice(name, e, rev, seg, /*staged=*/false));
      // Not Forget(): it may erase the entry this loop stands on.
      if (auto held = e.held.find(rev); held != e.held.end()) {
        held->second.erase(seg);
        if (held->second.empty()) e.held.erase(held);
      }
    }
    if (e.packed_manifest && e.packed_manifest->pack == *oldest && e.committed) {
      // From memory, not from the pack: the index is what this unit committed.
      const std::string body = EncodeManifestFile(*e.committed);
      auto moved = packs_->Append(PackKind::kManifest, name, e.committed->rev, 0, {Bytes(body)});
      if (!moved.ok()) return moved.status();
      e.packed_manifest = *moved;
    }
  }
  DSTK_RETURN_IF_ERROR(packs_->Sync());
  DSTK_RETURN_IF_ERROR(packs_->RemoveOldest(*oldest));
  return true;
}
wire::UnitInfo SliceStore::Info() const {
  wire::UnitInfo info;
  for (const auto& [name, e] : index_) {
    if (e.committed && !e.committed->tomb) ++info.objects;
    for (const auto& [rev, segs] : e.held) {
      info.slices += segs.size();
      for (const auto& [seg, bytes] : segs) info.bytes_used += bytes;
    }
  }
  struct statvfs vfs {};
  if (::statvfs(dir_.c_str(), &vfs) == 0) info.bytes_free = uint64_t{vfs.f_bavail} * vfs.f_frsize;
  info.uptime_s = NowSeconds() - started_s_;
  return info;
}

}  // namespace dstk::store
