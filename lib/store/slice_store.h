// A storage unit's slice store: the directory one dsnode serves.
//
// Layout (names map to directories, so an operator can look around with ls):
//
// clang-format off
//   DIR/LOCK                              flock()ed while a dsnode serves DIR
//   DIR/objects/<name>/<rev>.<seg>.slice  one slice (store/slice_file.h); rev and seg in hex
//   DIR/objects/<name>/<rev>.manifest     the revision this unit has committed (publish)
//   DIR/claims.journal                    every function's claim state (store/claim_journal.h)
//   DIR/objects/<name>/lease.claim        a claim state written by an earlier version (read only)
//   DIR/objects/<name>/.tmp.*             a write in progress; removed on open
//   DIR/packs/<n>.pack                    small slices put with `pack` (functions), and their
//                                         manifests, appended (store/pack_log.h)
// clang-format on
//
// A name like "logs/2026-11-25" is the directory objects/logs/2026-11-25; a child object
// "a/b" lives in a subdirectory of "a". That never collides with a's own files because name
// components may not look like them (wire/name.h reserves the suffixes used here).
//
// Revisions: put_slice writes slices of a *pending* revision; publish records the revision's
// manifest (the unit's committed revision) and drops older revisions. A reader asks for the
// committed revision, then reads its slices; see lib/client for why that never mixes revisions.
//
// Every file is published atomically, so after kill -9 at any moment each slice is whole and
// valid or absent; a packed slice or manifest is a record that is whole or cut off at open.
// Writes (PutSlice, Publish, DeleteRevision) are staged or appended and made durable for a whole
// group of requests by one SyncFiles (store/staged_files.h, store/pack_log.h); a unit
// acknowledges none before it. Claim states likewise: SaveClaim only queues a journal record and
// SyncClaims makes every queued one durable with one flush, so a unit answers a group of claim
// requests for the price of one fsync. Not thread-safe: dsnode serves one request at a time.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "codec/slice.h"
#include "store/claim_journal.h"
#include "store/claim_state.h"
#include "store/pack_log.h"
#include "store/staged_files.h"
#include "util/status.h"
#include "util/unique_fd.h"
#include "wire/message.h"

namespace dstk::store {

struct ObjectState {
  std::optional<wire::Manifest> committed;
  std::vector<wire::HeldRevision> held;  // ascending rev
};

struct ListPage {
  std::vector<wire::ListEntry> entries;
  bool more = false;
  std::string scanned;  // set when a lane's scan stopped short: the last name examined
};

class SliceStore {
 public:
  // Opens (creating when needed) the store in `dir`: takes the LOCK, removes temp files left by
  // a crash, and indexes every slice and manifest. A second store on the same dir is refused.
  static Result<std::unique_ptr<SliceStore>> Open(const std::string& dir);
  ~SliceStore();
  SliceStore(const SliceStore&) = delete;
  SliceStore& operator=(const SliceStore&) = delete;

  // Stores a slice after checking its name, fields and CRC. Rewriting the same slice is fine.
  // A slice of a revision older than the committed one is refused (kConflict), and so is one
  // whose fencing `token` is lower than the committed revision's (a deposed claim owner).
  // With `pack`, a one-segment slice of at most kMaxPackedSlice bytes is appended to a pack
  // instead of a file of its own (a function: small, many, read once), and so is the manifest
  // that publishes it.
  Status PutSlice(const codec::SliceHeader& h, std::span<const uint8_t> payload, uint64_t token = 0,
                  bool pack = false);
  static constexpr size_t kMaxPackedSlice = (1u << 20) + 4096;

  // Reads and verifies one slice. A slice whose CRC fails is moved aside (".corrupt"), forgotten,
  // and reported as kCorruption: a unit never serves a bad slice.
  Status GetSlice(const std::string& name, uint64_t rev, uint32_t seg, codec::SliceHeader& h,
                  std::vector<uint8_t>& file, std::span<const uint8_t>& payload);

  // Deletes every slice of `rev` of `name` (a pending revision whose put failed). The committed
  // revision cannot be deleted this way (kConflict); publish a newer one or a tombstone.
  // With `moved` (rebalance: the revision now lives on other units), the committed revision is
  // deleted too, with its manifest, and the unit forgets the object; a function kept in a pack
  // is never moved (kInvalidArgument): its claim state lives here.
  Status DeleteRevision(const std::string& name, uint64_t rev, bool moved = false);

  // PutSlice, DeleteRevision and Publish take effect at once for this store's readers and are
  // durable after the next SyncFiles() that returns Ok, not before.
  //
  // Makes `m` the committed revision of `name` and drops older revisions. Publishing the same
  // revision again is fine, and replaces the manifest when m.pgen is higher (a pillar moved by
  // rebalance or repair); an older one than committed is refused with kConflict, and so is
  // one whose m.token is lower than the committed revision's token (fencing).
  Status Publish(const std::string& name, const wire::Manifest& m);

  // The object's state here; kNotFound when this unit knows nothing of it. With `verify`,
  // every slice is re-read and its CRC checked (bad ones are moved aside and counted).
  Result<ObjectState> Stat(const std::string& name, bool verify);

  // Names with a committed revision (tombstones included, so clients can merge), in byte order,
  // starting after `after`, at most `limit` entries and about `max_bytes` of encoded reply
  // (each entry counted as its name plus kListEntryOverhead). With `lane`, only the names of
  // that lane, after examining at most limit * lanes * wire::kListScanPerLane names: a page cut
  // short by that bound has `more` and `scanned` set, so a unit's work per request stays bounded
  // however the names fall into lanes.
  ListPage List(const std::string& prefix, const std::string& after, size_t limit, size_t max_bytes,
                wire::ListLane lane = {}) const;
  static constexpr size_t kListEntryOverhead = 96;  // an encoded manifest and map keys, at most

  // The claim state of function `name`, or nullptr when none was ever written.
  const ClaimState* Claim(const std::string& name) const;
  // Sets the claim state and queues it for the journal: durable after the next SyncClaims() that
  // returns Ok, and not to be acknowledged before. With `drop_slices` (a consumed or finished
  // function) the object's slices become droppable once the state is durable
  // (DropConsumedSlices); its manifest stays so the name is remembered.
  Status SaveClaim(const std::string& name, const ClaimState& state, bool drop_slices);
  // Makes every saved claim state durable (one fdatasync). On an error the states stay queued
  // and the next call writes them again.
  Status SyncClaims();
  // Makes every staged write, publish and delete durable (store/staged_files.h). A write whose
  // data could not be flushed is dropped, and the error says which.
  Status SyncFiles();
  bool HasUnsyncedFiles() const {
    return !staged_.empty() || packs_->HasUnsynced() || !drops_after_commit_.empty();
  }
  // Rewrites the oldest pack's live records into the newest and removes it, when under half of
  // it is live (store/pack_log.h); false when there was nothing to do. For when a unit is idle.
  Result<bool> CompactPacks();
  // What opening the packs found: a torn tail cut off, damaged packs. For the operator's log.
  const PackLog& packs() const { return *packs_; }
  // Whether claim states are waiting for a SyncClaims (one failed, or none ran yet).
  bool HasUnsyncedClaims() const { return journal_->HasPending(); }
  // Deletes the slices of up to `max` functions whose consumed or finished state is durable.
  // Separate from SyncClaims so that a unit unlinks when it has nothing else to do: an unlink
  // can wait for the disk (ext4 mounted with `discard` trims the blocks synchronously), which
  // cost claim rounds 13% of a unit's time when it was done before the replies.
  Status DropConsumedSlices(size_t max);
  bool HasConsumedSlices() const { return !droppable_.empty(); }
  // Whether opening found (and zeroed) the torn tail of a journal write: states never
  // acknowledged, which a crash cut short. For the operator's log.
  bool claim_journal_tail_was_torn() const;
  // Changes the claim state in memory only; the file keeps the last durable state. For changes
  // that are safe to lose in a crash (a released lock).
  Status KeepClaim(const std::string& name, const ClaimState& state);

  wire::UnitInfo Info() const;
  const std::string& dir() const { return dir_; }
  const std::string& unit_id() const { return unit_id_; }  // store/unit_id.h

 private:
  struct Entry {
    std::optional<wire::Manifest> committed;
    std::map<uint64_t, std::map<uint32_t, uint64_t>> held;  // rev -> seg -> file bytes
    std::optional<ClaimState> claim;
    uint64_t claim_seq = 0;  // the claim file's last save (store/claim_file.h); 0: none yet
    // Slices and the committed manifest kept in a pack rather than files: where they are.
    std::map<std::pair<uint64_t, uint32_t>, PackRef> packed;  // (rev, seg) -> record
    std::optional<PackRef> packed_manifest;
  };

  SliceStore(std::string dir, UniqueFd lock);
  Status Scan(const std::string& relative);
  Status IndexFile(const std::string& name, const std::string& file);
  std::string ObjectDir(const std::string& name) const;
  // Creates objects/<name>, leaving the parents to fsync to the next SyncFiles.
  Status MakeObjectDir(const std::string& name);
  // Deletes the slices of revisions older than `rev`: `staged`, at the next SyncFiles (after
  // what replaces them is durable); else now, unsynced (slices a crash may bring back).
  Status DropOlder(const std::string& name, Entry& e, uint64_t rev, bool staged);
  void Forget(const std::string& name, uint64_t rev, uint32_t seg);
  // DeleteRevision(moved) of the committed revision: the whole object leaves this unit.
  Status DropMoved(const std::string& name, Entry& e);
  // Deletes slices of consumed or finished functions: unlinks a crash undid.
  Status DropFinishedSlices();
  Status OpenClaimJournal();
  Status OpenPacks();
  // Forgets slice (rev, seg) of `e`: a drop record when it is packed, else its file removed
  // (`staged`: at the next SyncFiles).
  Status DropSlice(const std::string& name, Entry& e, uint64_t rev, uint32_t seg, bool staged);
  Status CompactClaimJournalIfLarge();

  std::string dir_;
  std::string unit_id_;
  UniqueFd lock_fd_;  // DIR/LOCK, flock()ed: closing it (with the store) releases the lock
  std::map<std::string, Entry> index_;
  std::set<std::string> listable_;  // committed names that are not finished functions: List's walk
  std::unique_ptr<ClaimJournal> journal_;
  std::unique_ptr<PackLog> packs_;
  StagedFiles staged_;
  // Drop records of packed slices waiting for the staged writes they depend on (SyncFiles).
  std::set<std::tuple<std::string, uint64_t, uint32_t>> drops_after_commit_;
  std::vector<std::string> drop_when_synced_;  // functions saved finished since the last sync
  std::deque<std::string> droppable_;          // finished durably; slices not yet deleted
  static bool Finished(const Entry& e) {
    return e.claim && e.claim->phase != ClaimState::Phase::kPending;
  }
  uint64_t started_s_;
};

// File names inside an object directory.
std::string SliceFileName(uint64_t rev, uint32_t seg);
std::string ManifestFileName(uint64_t rev);
inline constexpr const char* kClaimFileName = "lease.claim";
inline constexpr const char* kClaimJournalName = "claims.journal";

}  // namespace dstk::store
