// A function's claim state on disk: its encoding, and the per-function `lease.claim` file that
// units of earlier versions wrote next to a function's slices. Units now keep claim states in
// one journal per unit (store/claim_journal.h) and only read these files at open, so a store
// written by an earlier version keeps its promises; the journal's records carry on its seq.
//
// The file has two slots of kClaimSlotSize bytes; each holds a sequence number, the state and a
// CRC32C. A save overwrites the older slot in place and fdatasyncs it: one flush, no rename, no
// directory sync (a claim costs a unit two durable writes, so this halves its fsyncs). A write
// torn by a crash fails its CRC and the other slot, the last state the unit acknowledged, is
// read instead. The first save creates the file whole with the temp-and-rename publish.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "store/claim_state.h"
#include "util/status.h"
#include "wire/msgpack_fields.h"

namespace dstk::store {

inline constexpr size_t kClaimSlotSize = 512;  // one disk sector each, so a torn write hits one

struct ClaimRecord {
  ClaimState state;
  uint64_t seq = 0;  // the save's number; 0: read from a file of the single-state format
};

// Reads the newest intact slot. kCorruption when no slot is intact (bitrot: refusing to start
// is safer than forgetting a promise, which could let two claimers win).
Result<ClaimRecord> ReadClaimFile(const std::string& path);

// Saves `state` as save number `seq` (previous + 1). seq 1 creates the file atomically; later
// saves overwrite slot seq % 2 in place. Durable when it returns Ok. (The store no longer writes
// these; tests use it to make stores of earlier versions.)
Status WriteClaimFile(const std::string& path, const ClaimState& state, uint64_t seq);

// A state as the msgpack array both the file and the journal store: 11 elements, seq last (the
// single-state format had 10, without seq: read as seq 0).
void PackClaimState(wire::mp::Packer& p, const ClaimState& state, uint64_t seq);
Result<ClaimRecord> ReadClaimState(const msgpack::object& o);

// The encoding of one slot (exposed for tests): length, msgpack state with seq, CRC32C.
std::vector<uint8_t> EncodeClaimSlot(const ClaimState& state, uint64_t seq);
Result<ClaimRecord> DecodeClaimSlot(std::span<const uint8_t> slot);

}  // namespace dstk::store
