// The unit's claim journal: every claim-state change of every function, appended to one file
// (DIR/claims.journal) and made durable by one fdatasync per group of changes.
//
// Why a journal: a claim costs each unit two durable state changes (the promise of
// lock_read_delete and the acceptance of commit). Saved one file per function, each change is
// its own fsync (and a new function's first save a temp file, rename and directory sync), so a
// unit's claim rate is its disk's fsync rate. Appended to one journal, the changes of all the
// requests a unit has read off its socket (several claimers, or one batched claim carrying many
// keys) share one fdatasync: group commit, as databases do with their write-ahead logs.
//
// Format: records back to back, each [u32 length][msgpack [name, state]][u32 CRC32C of the
// msgpack], little-endian, followed by zeros. The file is kept zero-filled some way ahead of the
// last record (grown a chunk at a time), so an append overwrites zeros inside the file: the
// fdatasync then has no file size to commit, only data. Reading stops at a zero length (the end)
// or at a record that is cut short or fails its CRC: the tail of a write that a crash tore, which
// was never acknowledged. Open zeroes such a tail before anything is appended, so a later append
// can never line up with stale bytes that happen to parse.
//
// Compaction: Rewrite() replaces the file (temp, fsync, rename, directory sync) with one record
// per function, its current state; the store calls it when the journal has grown to several
// times that size, so the rewrites cost a constant factor of the appends.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/claim_file.h"
#include "store/claim_state.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace dstk::store {

struct JournalRecord {
  std::string name;
  ClaimState state;
  uint64_t seq = 0;  // the function's save number; a record wins over an older save
};

class ClaimJournal {
 public:
  // Opens `path` and calls `replay` with each intact record in the order they were written. A
  // missing file is an empty journal; the first Sync creates it.
  static Result<std::unique_ptr<ClaimJournal>> Open(
      const std::string& path, const std::function<void(JournalRecord&&)>& replay);
  ~ClaimJournal();
  ClaimJournal(const ClaimJournal&) = delete;
  ClaimJournal& operator=(const ClaimJournal&) = delete;

  // Queues a record in memory; it is durable only after the next Sync() that returns Ok.
  void Add(const JournalRecord& r);
  bool HasPending() const { return !pending_.empty(); }

  // Writes every queued record and fdatasyncs. On an error the records stay queued, in order, and
  // the next Sync() writes them again from the same place.
  Status Sync();

  // Replaces the journal with `live` (one record per function). Queued records must be synced
  // first (kConflict otherwise).
  Status Rewrite(const std::vector<JournalRecord>& live);

  uint64_t bytes() const { return end_; }             // bytes of records in the file
  uint64_t compacted_bytes() const { return base_; }  // bytes right after the last rewrite or open
  bool tail_was_torn() const { return torn_; }        // open found and zeroed a torn tail

  // The encoding of one record (exposed for tests).
  static std::vector<uint8_t> Encode(const JournalRecord& r);

 private:
  ClaimJournal(std::string path, UniqueFd fd, uint64_t end, uint64_t capacity, bool torn);

  std::string path_;
  UniqueFd fd_;        // invalid until the file exists (the first Sync creates it)
  uint64_t end_;       // where the next record goes
  uint64_t capacity_;  // file size: zeros from end_ to here
  uint64_t base_;
  bool torn_;
  std::vector<uint8_t> pending_;
};

}  // namespace dstk::store
