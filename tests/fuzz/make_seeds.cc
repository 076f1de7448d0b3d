// Writes the seed corpora of the fuzz targets, made with the real encoders so that the fuzzers
// start from well-formed messages and records:
//   make_seeds DIR   ->  DIR/wire_request_fuzz/*   one request or reply frame per file
//                        DIR/record_stream_fuzz/*  record streams (split streams, claims, mixed)
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <msgpack.hpp>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "claim/claim_record.h"
#include "claim/claimer.h"
#include "claim/function.h"
#include "client/integrity.h"
#include "codec/digest.h"
#include "codec/erasure.h"
#include "codec/segment.h"
#include "codec/slice.h"
#include "wire/message.h"
#include "wire/record.h"

namespace {

using dstk::codec::SliceHeader;
using dstk::wire::Manifest;
using dstk::wire::Op;
using dstk::wire::Reply;
using dstk::wire::ReplyStatus;
using dstk::wire::Request;

void MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "make_seeds: mkdir %s: %s\n", dir.c_str(), std::strerror(errno));
    std::exit(6);
  }
}

void Write(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!f) {
    std::fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
    std::exit(6);
  }
}

[[noreturn]] void BadSeed(const std::string& what) {
  std::fprintf(stderr, "make_seeds: a seed the decoders refuse: %s\n", what.c_str());
  std::exit(1);
}

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

Manifest SomeManifest(uint64_t token = 0) {
  Manifest m;
  m.rev = 1700000000000001;
  m.size = 10000;
  m.segs = 3;
  m.segsize = 4096;
  m.k = 3;
  m.n = 5;
  m.token = token;
  return m;
}

// `m` with the digest of every slice and their root, as every writer seals a manifest.
Manifest Hashed(Manifest m) {
  std::string hashes;
  for (uint32_t i = 0; i < m.segs * m.n; ++i) {
    hashes += dstk::codec::DigestBytes(dstk::codec::Sha256(Bytes(std::to_string(i))));
  }
  dstk::client::SealHashes(m, std::move(hashes));
  return m;
}

// A whole object cut into segments and erasure-coded, as `dsenc split` does.
std::vector<std::pair<SliceHeader, std::vector<uint8_t>>> Slices(const std::string& name,
                                                                 const std::string& data,
                                                                 uint32_t k, uint32_t n,
                                                                 uint32_t segsize) {
  auto coder = dstk::codec::ErasureCoder::Create(static_cast<int>(k), static_cast<int>(n));
  if (!coder.ok()) std::exit(6);
  dstk::codec::SegmentEncoder encoder(*coder);
  std::vector<std::pair<SliceHeader, std::vector<uint8_t>>> out;
  const uint32_t segs = static_cast<uint32_t>((data.size() + segsize - 1) / segsize);
  for (uint32_t seg = 0; seg < segs; ++seg) {
    const size_t off = size_t{seg} * segsize;
    const size_t len = std::min<size_t>(segsize, data.size() - off);
    std::span<const uint8_t> segment(reinterpret_cast<const uint8_t*>(data.data()) + off, len);
    const auto& payloads = encoder.Encode(segment);
    for (uint32_t i = 0; i < n; ++i) {
      SliceHeader h;
      h.name = name;
      h.rev = 1700000000000042;
      h.seg = seg;
      h.segs = segs;
      h.idx = i;
      h.k = k;
      h.n = n;
      h.size = data.size();
      h.seglen = static_cast<uint32_t>(len);
      h.segsize = segsize;
      h.crc = dstk::codec::ComputeSliceCrc(h, payloads[i]);
      out.emplace_back(h, std::vector<uint8_t>(payloads[i].begin(), payloads[i].end()));
    }
  }
  return out;
}

std::string SplitStream(const std::string& name, const std::string& data, uint32_t k, uint32_t n,
                        uint32_t segsize) {
  std::string out;
  for (const auto& [h, p] : Slices(name, data, k, n, segsize)) {
    out += dstk::wire::EncodeSliceRecord(h, p);
  }
  Manifest m;
  m.rev = 1700000000000042;
  m.size = data.size();
  m.segs = static_cast<uint32_t>((data.size() + segsize - 1) / segsize);
  m.segsize = segsize;
  m.k = k;
  m.n = n;
  out += dstk::wire::EncodeObjectRecord(name, m);
  return out;
}

std::string ClaimRecord(dstk::wire::ClaimMode mode, uint32_t k, uint32_t n, bool all_slices) {
  dstk::claim::Function f;
  f.argv = {"sh", "-c", "cut -d' ' -f1 | sort | uniq -c"};
  f.inputs = {"logs/2026-11-25", "logs/2026-11-26"};
  f.output = "counts/2026-11-25";
  f.timeout_s = 60;
  f.producer = "host:1234";
  f.pushed_us = 1764000000000000;
  dstk::claim::Claim c;
  c.queue = "jobs";
  c.key = "jobs/00064a1b2c3d4e5f-0000beef";
  c.ballot = {7, 0x1234567890abcdefULL};
  c.mode = mode;
  c.lease_ms = mode == dstk::wire::ClaimMode::kLease ? 30000 : 0;
  c.attempts = 1;
  auto slices =
      Slices(c.key, dstk::claim::EncodeFunction(f), k, n, dstk::codec::kDefaultSegmentSize);
  if (!all_slices) slices.erase(slices.begin(), slices.begin() + (n - k));  // parity-heavy set
  c.slices = std::move(slices);
  std::string bytes = dstk::claim::EncodeClaimRecord(c);
  // The record must decode down to the function, so that FunctionOf is reached from the seeds.
  msgpack::object_handle oh = msgpack::unpack(bytes.data(), bytes.size());
  auto back = dstk::claim::DecodeClaimRecord(oh.get());
  if (!back.ok()) BadSeed("claim record: " + back.status().message());
  auto fn = dstk::claim::FunctionOf(*back);
  if (!fn.ok() || fn->argv != f.argv) BadSeed("claim record's function");
  return bytes;
}

void WireSeeds(const std::string& dir) {
  int i = 0;
  // Each seed must be accepted, so that the fuzzer starts past the decoders' checks.
  auto put = [&](const std::string& bytes) {
    if (!dstk::wire::DecodeRequest(Bytes(bytes)).ok() &&
        !dstk::wire::DecodeReply(Bytes(bytes)).ok())
      BadSeed("wire seed " + std::to_string(i));
    Write(dir + "/seed-" + std::to_string(i++), bytes);
  };

  Request r;
  r.id = 42;
  r.op = Op::kStat;
  put(EncodeRequest(r));  // the unit's own state
  r.name = "logs/2026-11-25";
  r.verify = true;
  put(EncodeRequest(r));
  r.verify = false;
  r.slice_max = 65536;  // a reader's stat: the first slice with it
  put(EncodeRequest(r));
  r.slice_max = 0;
  for (Op op : {Op::kGetSlice, Op::kDelSlice}) {
    r.op = op;
    r.rev = 1700000000000001;
    r.seg = 2;
    put(EncodeRequest(r));
  }
  r.op = Op::kDelSlice;
  r.moved = true;  // rebalance: drop a committed revision that lives elsewhere now
  put(EncodeRequest(r));
  r.moved = false;
  r.op = Op::kPublish;
  r.manifest = SomeManifest(9);
  put(EncodeRequest(r));
  // A placed revision: the unit holding each pillar, and its placement generation.
  r.manifest->placement = {"00112233445566a0", "00112233445566b1", "00112233445566c2",
                           "00112233445566d3", "00112233445566e4"};
  r.manifest->pgen = 2;
  put(EncodeRequest(r));
  r.manifest = Hashed(*r.manifest);
  put(EncodeRequest(r));
  r.manifest->hashes.clear();
  r.manifest->root.clear();
  r.manifest->placement.clear();
  r.manifest->pgen = 0;
  r.manifest->tomb = true;
  r.manifest->token = 0;
  put(EncodeRequest(r));
  r.manifest.reset();

  Request put_req;
  put_req.op = Op::kPutSlice;
  put_req.id = 7;
  put_req.token = 12;
  put_req.slice = Slices("a/b", "hello, world", 2, 3, 4096).front().first;
  put(EncodeRequest(put_req));

  Request list;
  list.op = Op::kList;
  list.id = 99;
  list.prefix = "logs/";
  list.after = "logs/2026-11-24";
  list.limit = 100;
  put(EncodeRequest(list));

  for (Op op : {Op::kLockReadDelete, Op::kCommit, Op::kRelease, Op::kRenew, Op::kFinish}) {
    Request c;
    c.op = op;
    c.id = 1000 + static_cast<uint64_t>(op);
    c.name = "jobs/00064a1b2c3d4e5f-0000beef";
    c.ballot = {3, 0xfeedULL};
    c.owner = 0xfeedULL;
    c.lease_ms = 30000;
    c.mode = op == Op::kCommit ? dstk::wire::ClaimMode::kLease : dstk::wire::ClaimMode::kConsume;
    put(EncodeRequest(c));
    // The batched form (dsclaim --batch): the same op on several keys.
    c.name.clear();
    c.keys = {{"jobs/00064a1b2c3d4e5f-0000beef", 3}, {"jobs/00064a1b2c3d4e60-0000beef", 1}};
    put(EncodeRequest(c));
  }

  Reply ok;
  ok.id = 42;
  put(EncodeReply(ok));
  Reply err;
  err.id = 43;
  err.status = ReplyStatus::kBadRequest;
  err.error = "bad name";
  put(EncodeReply(err));
  Reply got;
  got.id = 44;
  got.slice = put_req.slice;
  put(EncodeReply(got));
  Reply stat;
  stat.id = 45;
  stat.committed = SomeManifest();
  stat.held = {{1700000000000001, 5, 0}, {1700000000000002, 3, 2}};
  put(EncodeReply(stat));
  stat.committed = Hashed(SomeManifest());
  put(EncodeReply(stat));
  Reply listed;
  listed.id = 46;
  listed.entries = {{"logs/a", SomeManifest()}, {"logs/b", SomeManifest(4)}};
  listed.more = true;
  put(EncodeReply(listed));
  Reply unit;
  unit.id = 47;
  unit.unit = dstk::wire::UnitInfo{"0.1.0", 10, 60, 1u << 30, 1ull << 40, 3600};
  put(EncodeReply(unit));
  Reply claim;
  claim.id = 48;
  claim.status = ReplyStatus::kLocked;
  claim.claim.emplace();
  claim.claim->promised = {5, 1};
  claim.claim->lock_ms_left = 250;
  claim.claim->has_accepted = true;
  claim.claim->accepted = {4, 2};
  claim.claim->owner = 2;
  claim.claim->lease_live = true;
  claim.claim->epoch = 4;
  claim.claim->attempts = 2;
  claim.claim->state = dstk::wire::ClaimPhase::kConsumed;
  put(EncodeReply(claim));
  Reply fenced;
  fenced.id = 49;
  fenced.status = ReplyStatus::kFenced;
  fenced.error = "token 3 < 7";
  fenced.claim.emplace();
  put(EncodeReply(fenced));
  Reply forbidden;
  forbidden.id = 59;
  forbidden.status = ReplyStatus::kForbidden;
  forbidden.error = "this client key has no write right on other/x";
  put(EncodeReply(forbidden));
  Reply batch;
  batch.id = 50;
  batch.results.resize(3);
  batch.results[0].claim = claim.claim;
  batch.results[0].slice = put_req.slice;
  batch.results[1].status = ReplyStatus::kLocked;
  batch.results[1].error = "locked by ballot 5/1";
  batch.results[1].claim = claim.claim;
  batch.results[2].status = ReplyStatus::kNotFound;
  put(EncodeReply(batch));
}

void RecordSeeds(const std::string& dir) {
  int i = 0;
  auto put = [&](const std::string& bytes) { Write(dir + "/seed-" + std::to_string(i++), bytes); };
  std::string text;
  for (int line = 0; line < 300; ++line) text += "10.0.0." + std::to_string(line % 7) + " GET /\n";
  put(SplitStream("logs/2026-11-25", text, 3, 5, 1024));  // several segments
  put(SplitStream("tiny", "x", 1, 1, 4096));              // k = n = 1
  put(SplitStream("empty", "", 2, 4, 4096));              // no slices, only the object
  put(ClaimRecord(dstk::wire::ClaimMode::kConsume, 2, 3, true));
  put(ClaimRecord(dstk::wire::ClaimMode::kLease, 3, 5, false));
  // A mixed stream: a claim, a lone slice, an object record.
  auto slices = Slices("mixed", "mixed stream", 2, 2, 4096);
  put(ClaimRecord(dstk::wire::ClaimMode::kConsume, 1, 2, true) +
      dstk::wire::EncodeSliceRecord(slices[0].first, slices[0].second) +
      dstk::wire::EncodeObjectRecord("mixed", SomeManifest()));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds DIR\n");
    return 2;
  }
  const std::string root = argv[1];
  MakeDir(root);
  MakeDir(root + "/wire_request_fuzz");
  MakeDir(root + "/record_stream_fuzz");
  WireSeeds(root + "/wire_request_fuzz");
  RecordSeeds(root + "/record_stream_fuzz");
  return 0;
}
