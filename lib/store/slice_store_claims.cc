// SliceStore's claim half: each function's claim state (store/claim_file.h), kept in memory
// beside its slices and made durable through the claim journal (store/claim_journal.h), and
// the slices of functions that are consumed or done, dropped once that state is durable. The
// rules that decide a claim are node/claim_rules.h; this file only keeps what they decide.
#include <dirent.h>

#include <cerrno>
#include <cstring>

#include "store/file_util.h"
#include "store/slice_store.h"

namespace dstk::store {

const ClaimState* SliceStore::Claim(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end() || !it->second.claim) return nullptr;
  return &*it->second.claim;
}

Status SliceStore::SaveClaim(const std::string& name, const ClaimState& state, bool drop_slices) {
  auto it = index_.find(name);
  if (it == index_.end()) return Status::NotFound("no object " + name + " on this unit");
  it->second.claim = state;
  journal_->Add({name, state, ++it->second.claim_seq});
  if (Finished(it->second)) listable_.erase(name);
  // Not before the state is durable: a crash in between would leave a pending function without
  // this unit's slice, and one on every unit would be lost undecided.
  if (drop_slices) drop_when_synced_.push_back(name);
  return Status::Ok();
}

Status SliceStore::SyncClaims() {
  DSTK_RETURN_IF_ERROR(journal_->Sync());
  droppable_.insert(droppable_.end(), drop_when_synced_.begin(), drop_when_synced_.end());
  drop_when_synced_.clear();
  return CompactClaimJournalIfLarge();
}

Status SliceStore::DropConsumedSlices(size_t max) {
  // Unlinks not synced: a slice that comes back after a crash is dropped again at open
  // (DropFinishedSlices), since the claim state saying it is consumed or done is durable.
  for (size_t done = 0; done < max && !droppable_.empty(); ++done) {
    const std::string name = std::move(droppable_.front());
    droppable_.pop_front();
    auto it = index_.find(name);
    if (it != index_.end() && Finished(it->second) && !it->second.held.empty())
      DSTK_RETURN_IF_ERROR(DropOlder(name, it->second, ~uint64_t{0}, /*staged=*/false));
  }
  return Status::Ok();
}

bool SliceStore::claim_journal_tail_was_torn() const {
  return journal_->tail_was_torn();
}

Status SliceStore::OpenClaimJournal() {
  // A journal rewrite cut short by a crash leaves its temp file next to the journal.
  DIR* d = ::opendir(dir_.c_str());
  if (d == nullptr) return Status::IoError("cannot read " + dir_ + ": " + std::strerror(errno));
  std::vector<std::string> temps;
  while (dirent* ent = ::readdir(d)) {
    if (std::string_view(ent->d_name).rfind(kTempPrefix, 0) == 0) temps.emplace_back(ent->d_name);
  }
  ::closedir(d);
  for (const auto& t : temps) DSTK_RETURN_IF_ERROR(RemoveFile(dir_ + "/" + t));
  // Records replay in order over the states read from lease.claim files (earlier versions):
  // the newest save of each function wins. A record of a name this unit no longer has a
  // manifest for is left out (the next rewrite drops it).
  auto journal = ClaimJournal::Open(dir_ + "/" + kClaimJournalName, [this](JournalRecord&& r) {
    auto it = index_.find(r.name);
    if (it == index_.end() || !it->second.committed || r.seq <= it->second.claim_seq) return;
    it->second.claim = r.state;
    it->second.claim_seq = r.seq;
  });
  if (!journal.ok()) return journal.status();
  journal_ = std::move(*journal);
  return CompactClaimJournalIfLarge();
}

Status SliceStore::CompactClaimJournalIfLarge() {
  // Rewrite once the journal is 4 times what a rewrite would keep (at least 8 MiB): each byte
  // of a rewrite then pays for at least 3 bytes of appends, so rewriting costs a constant factor.
  constexpr uint64_t kMinBytes = 8u << 20;
  if (journal_->bytes() < std::max(kMinBytes, 4 * journal_->compacted_bytes())) return Status::Ok();
  std::vector<JournalRecord> live;
  for (const auto& [name, e] : index_) {
    if (e.claim && e.committed) live.push_back({name, *e.claim, e.claim_seq});
  }
  return journal_->Rewrite(live);
}

Status SliceStore::DropFinishedSlices() {
  for (auto& [name, e] : index_) {
    if (e.claim && e.claim->phase != ClaimState::Phase::kPending && !e.held.empty()) {
      DSTK_RETURN_IF_ERROR(DropOlder(name, e, ~uint64_t{0}, /*staged=*/false));
    }
  }
  return Status::Ok();
}

Status SliceStore::KeepClaim(const std::string& name, const ClaimState& state) {
  auto it = index_.find(name);
  if (it == index_.end()) return Status::NotFound("no object " + name + " on this unit");
  it->second.claim = state;
  if (Finished(it->second)) listable_.erase(name);
  return Status::Ok();
}

}  // namespace dstk::store
