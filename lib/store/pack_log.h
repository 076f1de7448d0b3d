// Pack files: small slices and their manifests appended to a log instead of a file each.
//
// A function is a one-segment object of a few hundred bytes, pushed once, read once by the
// claim that consumes it and then dropped. Stored as files, each costs a unit a directory, two
// files (slice and manifest) and an unlink: on the machines measured, creating inodes was most
// of a unit's time while functions were pushed (ext4's inode allocator), and a queue of 10^6
// functions would take 12 KiB of blocks per function on every unit. Appended to a pack, a
// function costs a unit about its bytes, and a group of pushes one fdatasync.
//
// Layout: DIR/packs/<8 hex digits>.pack, numbered in the order they were started; the newest
// is the one appended to, and a new one is started once it holds kPackBytes. Each record is
//
//   [u32 body length][u32 CRC32C of the body] body = [u8 kind][u16 name length][u64 rev]
//   [u32 seg][u32 data length][name][data]                        (little-endian)
//
// where data is the bytes a file would hold (a slice file, store/slice_file.h, or a manifest
// file): each carries its own CRC, checked on every read. Kinds: a slice, a manifest, and the
// drop of one of either. Open replays every pack in order, so a later record wins; a record
// that is cut short or fails its CRC at the end of the newest pack is the tail of a write a
// crash tore (never acknowledged) and is cut off. A bad record elsewhere is bitrot: that pack is
// read up to it and the rest of it is reported.
//
// Appends go to the file at once (so a unit can serve what it accepted; lazy drops wait for the
// next write, see Append) and are durable after
// the next Sync, which a unit runs once per group of requests before it replies (group commit).
// Dead records (dropped, superseded) are reclaimed by compaction: the store re-appends the live
// records of the oldest pack and removes it (SliceStore::CompactPacks). Only the oldest pack is
// ever removed, so a drop record can never outlive the record it drops in an older pack.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk::store {

// A later manifest supersedes an earlier one by its revision, so there is no manifest drop.
enum class PackKind : uint8_t { kSlice = 1, kManifest = 2, kDropSlice = 3 };

// Where a record's data is: pack number, byte offset of the data in it, and its length.
struct PackRef {
  uint32_t pack = 0;
  uint64_t offset = 0;
  uint32_t size = 0;
};

struct PackRecord {
  PackKind kind = PackKind::kSlice;
  std::string name;
  uint64_t rev = 0;
  uint32_t seg = 0;
  PackRef data;                    // size 0 for drops
  std::span<const uint8_t> bytes;  // the data itself, while a replay callback runs
};

class PackLog {
 public:
  static constexpr uint64_t kPackBytes = 16u << 20;

  // Opens (creating) the pack directory `dir` and calls `replay` with every intact record, in
  // the order written. Packs are only created by the first Append.
  static Result<std::unique_ptr<PackLog>> Open(
      const std::string& dir, const std::function<void(const PackRecord&)>& replay);
  ~PackLog();
  PackLog(const PackLog&) = delete;
  PackLog& operator=(const PackLog&) = delete;

  // Appends a record; durable after the next Sync that returns Ok. On an error nothing of the
  // record stays in the pack (a full disk is kLimit). A `lazy` record does not make Sync flush
  // its pack: it becomes durable with the next record synced after it, or a crash loses it. Only
  // for records the store redoes at open when they are lost (the drop of a consumed function's
  // slice: the claim state that says consumed is durable), so that a unit claiming functions
  // flushes its claim journal only, not the pack as well. Lazy records also wait in memory (up
  // to kLazyBytes) and are written with the next record, the next Sync or at close: a batch of
  // drops is one write, not one each.
  Result<PackRef> Append(PackKind kind, const std::string& name, uint64_t rev, uint32_t seg,
                         const std::vector<std::span<const uint8_t>>& data = {}, bool lazy = false);
  Status Sync();
  bool HasUnsynced() const { return !unsynced_.empty() || dir_unsynced_; }

  // The data of a record (not checked here: it carries its own CRC). Records read in the order
  // they were appended are read ahead kReadAhead bytes at a time.
  Result<std::vector<uint8_t>> Read(const PackRef& ref) const;

  // Live-data accounting, for compaction: a slice or manifest record counts as live from its
  // append (or replay) until the store calls Dead for it.
  void Dead(const PackRef& ref);
  // The oldest pack, when it is not the one appended to and under half of it is live data.
  std::optional<uint32_t> CompactionCandidate() const;
  // Deletes pack `pack` (the oldest): its live records must have been appended again and synced.
  Status RemoveOldest(uint32_t pack);

  // What Open found: the torn tail it cut off (bytes), and bitrot (a message per damaged pack).
  uint64_t torn_tail_bytes() const { return torn_tail_bytes_; }
  const std::vector<std::string>& damaged() const { return damaged_; }
  uint64_t bytes() const;  // all packs

 private:
  struct Pack {
    UniqueFd fd;
    uint64_t size = 0;
    uint64_t live = 0;       // data bytes of live records
    bool lazy_tail = false;  // lazy records appended since this pack was last flushed
  };
  // The bytes last read ahead, and where the last read ended (to see a sequential reader).
  struct ReadWindow {
    uint32_t pack = 0;
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
    uint64_t last_end = 0;
  };
  static constexpr size_t kLazyBytes = 64u << 10;
  static constexpr uint64_t kReadAhead = 64u << 10;
  static constexpr uint64_t kReadGap = 4096;  // a read this close after the last is sequential
  explicit PackLog(std::string dir) : dir_(std::move(dir)) {}
  // Writes what waits in unwritten_ to the active pack (on an error, truncates back: none of it
  // stays).
  Status WriteLazy();
  std::string PathOf(uint32_t pack) const;
  Status Replay(uint32_t number, bool newest, const std::function<void(const PackRecord&)>& replay);
  Status StartPack();

  std::string dir_;
  std::map<uint32_t, Pack> packs_;  // by number; the last is the active one
  std::set<uint32_t> unsynced_;     // packs appended to since the last Sync
  bool dir_unsynced_ = false;
  uint64_t torn_tail_bytes_ = 0;
  std::vector<std::string> damaged_;
  // Lazy records of the active pack not written yet (its tail); also where Append frames a
  // record, so that a record leaves with the lazy ones before it in one write.
  std::vector<uint8_t> unwritten_;
  mutable ReadWindow window_;  // Read's read-ahead (Read is const for its callers)
};

}  // namespace dstk::store
