// PutNewObjects: many small new objects in two fan-out rounds, not two rounds each.
#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_map>

#include "client/find.h"
#include "client/integrity.h"
#include "client/object_io.h"
#include "client/placement.h"
#include "client/refusals.h"
#include "codec/segment.h"
#include "wire/revision.h"

namespace dstk::client {
namespace {

// Which units acknowledged one object's round, and why the others did not.
struct Acks {
  std::vector<size_t> units;
  std::string why;
  bool fenced = false;
  bool newer = false;    // a unit refused: it has a newer revision committed
  size_t forbidden = 0;  // units that refused as forbidden
  void Fail(const std::string& reason) { why += (why.empty() ? "" : "; ") + reason; }
};

// How one round waits and what it counts.
struct RoundRules {
  // A publish: a unit that has a newer revision committed counts as an acknowledgement, as in
  // PutObject (the object is superseded there, not lost).
  bool conflict_acks = false;
  // > 0: once every object has this many acknowledgements (or nothing left to wait for), the
  // units still silent get a short grace, not the whole timeout (as Locate's `enough`).
  size_t enough = 0;
};

// Whether every object has `enough` acknowledgements or no request outstanding.
bool AllEnough(const std::vector<Acks>& acks, const std::vector<size_t>& outstanding,
               size_t enough) {
  for (size_t i = 0; i < acks.size(); ++i) {
    if (acks[i].units.size() < enough && outstanding[i] > 0) return false;
  }
  return true;
}

// Sends one request per (object, unit) built by `make` and waits for every reply, the timeout,
// or (with rules.enough) the grace after enough replies. A unit that does not answer in time is
// marked down for the rest of the batch call.
template <typename MakeRequest>
std::vector<Acks> Round(net::Cluster& c, const std::vector<std::vector<size_t>>& targets,
                        std::vector<bool>& down, const RoundRules& rules, MakeRequest make) {
  std::vector<Acks> acks(targets.size());
  std::vector<size_t> outstanding(targets.size(), 0);
  std::unordered_map<uint64_t, std::pair<size_t, size_t>> sent;  // id -> (object, unit)
  for (size_t i = 0; i < targets.size(); ++i) {
    for (size_t u : targets[i]) {
      if (down[u]) {
        acks[i].Fail(c.Describe(u) + ": did not answer earlier");
        continue;
      }
      auto id = make(i, u);
      if (!id.ok()) {
        acks[i].Fail(id.status().message());
        continue;
      }
      sent[*id] = {i, u};
      ++outstanding[i];
    }
  }
  const auto started = net::Clock::now();
  auto deadline = started + c.timeout();
  bool grace = false;
  while (!sent.empty()) {
    if (!grace && rules.enough > 0 && AllEnough(acks, outstanding, rules.enough)) {
      grace = true;
      const auto now = net::Clock::now();
      deadline = std::min(deadline, now + std::max<net::Clock::duration>(
                                              3 * (now - started), std::chrono::milliseconds(100)));
    }
    auto resp = c.Receive(deadline);
    if (!resp) break;
    auto it = sent.find(resp->reply.id);
    if (it == sent.end()) continue;
    const auto [i, u] = it->second;
    sent.erase(it);
    --outstanding[i];
    const wire::Reply& r = resp->reply;
    if (r.status == wire::ReplyStatus::kBusy && net::Clock::now() < deadline) {
      // The unit holds as many of our requests as it takes from one client: send this one
      // again once it has answered a few (it answers in order, so they are on their way).
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      auto id = make(i, u);
      if (id.ok()) {
        sent[*id] = {i, u};
        ++outstanding[i];
        continue;
      }
    }
    if (r.ok() || (rules.conflict_acks && r.status == wire::ReplyStatus::kConflict)) {
      acks[i].units.push_back(u);
    } else {
      acks[i].fenced |= r.status == wire::ReplyStatus::kFenced;
      acks[i].newer |= r.status == wire::ReplyStatus::kConflict;
      acks[i].forbidden += r.status == wire::ReplyStatus::kForbidden ? 1 : 0;
      acks[i].Fail(c.Describe(u) + ": " + wire::ReplyStatusName(r.status) + ": " + r.error);
    }
  }
  for (const auto& [id, where] : sent) {
    c.Forget(id);
    down[where.second] = true;
    acks[where.first].Fail(c.Describe(where.second) + ": no reply within " +
                           std::to_string(c.timeout().count()) + " ms");
  }
  return acks;
}

// Why object `name` failed: fenced by a unit (whatever the count), else too few units.
Status TooFew(const std::string& name, const std::string& what, const Acks& a, uint32_t w,
              size_t units) {
  if (a.fenced) return Status::Fenced("put " + name + ": " + a.why);
  const std::string msg =
      "put " + name + ": " + what + " on only " + std::to_string(a.units.size()) +
      " units, the write threshold is w=" + std::to_string(w) + " (" + a.why + ")";
  return Decided(Status::Unavailable(msg), a.forbidden, units, w);
}

// The units of `c` holding object `obj`'s pillars, in pillar order.
std::vector<size_t> PillarUnits(const net::Cluster& c, const NewObject& obj) {
  if (!obj.units.empty()) return obj.units;
  std::vector<size_t> all(c.size());
  for (size_t u = 0; u < c.size(); ++u) all[u] = u;
  return all;
}

// Every object's manifest but its digests, which are sealed as it is encoded.
std::vector<wire::Manifest> ManifestsOf(const std::vector<NewObject>& objects,
                                        const std::vector<std::vector<size_t>>& pillars,
                                        const PutOptions& o, const net::Cluster& c) {
  std::vector<wire::Manifest> manifests(objects.size());
  const std::vector<std::string> ids = PlacementIds(c);
  for (size_t i = 0; i < objects.size(); ++i) {
    wire::Manifest& m = manifests[i];
    m.rev = wire::NewRevision(objects[i].at_least);
    m.size = objects[i].bytes.size();
    m.segs = 1;
    m.segsize = o.segment_size;
    m.k = o.t.k;
    m.n = static_cast<uint32_t>(pillars[i].size());
    m.token = o.token;
    if (!ids.empty()) {
      for (size_t u : pillars[i]) m.placement.push_back(ids[u]);
    }
  }
  return manifests;
}

// The put_slice of unit `u`'s slice of a one-segment object; `payload` is that slice.
wire::Request SliceRequest(const std::string& name, const std::string& bytes, uint64_t rev,
                           const PutOptions& o, size_t n, size_t u,
                           std::span<const uint8_t> payload) {
  wire::Request req;
  req.op = wire::Op::kPutSlice;
  codec::SliceHeader h;
  h.name = name;
  h.rev = rev;
  h.seg = 0;
  h.segs = 1;
  h.k = o.t.k;
  h.n = static_cast<uint32_t>(n);
  h.size = bytes.size();
  h.seglen = static_cast<uint32_t>(bytes.size());
  h.segsize = o.segment_size;
  h.idx = static_cast<uint32_t>(u);
  h.crc = codec::ComputeSliceCrc(h, payload);
  req.slice = h;
  req.token = o.token;
  req.pack = true;  // small, many, read once: the unit appends it to a pack
  return req;
}

// Each object's slices for round 1, its manifest's digests sealed as it is encoded. The
// encoder's views change with each object, so objects are encoded one at a time, right before
// their slices are queued (Send copies them); except when all of them together are small
// (dsrun's output and run log): then all are encoded first, so that the requests to one unit
// leave back to back and its group commit makes their writes one flush, not one per object.
class SliceSource {
 public:
  static constexpr size_t kEncodeAheadBytes = size_t{4} << 20;

  SliceSource(codec::SegmentEncoder& encoder, const std::vector<NewObject>& objects,
              std::vector<wire::Manifest>& manifests, uint32_t segment_size)
      : encoder_(encoder), objects_(objects), manifests_(manifests) {
    size_t total = 0;
    for (const NewObject& obj : objects) total += obj.bytes.size();
    if (total > kEncodeAheadBytes || objects.size() < 2) return;
    ahead_.resize(objects.size());
    for (size_t i = 0; i < objects.size(); ++i) {
      if (objects[i].bytes.size() > segment_size) continue;  // refused in the round
      Encode(i);
      for (const auto& v : views_) ahead_[i].emplace_back(v.begin(), v.end());
    }
  }

  // The slice of pillar `pillar` of object `i` (valid until the next call).
  std::span<const uint8_t> Slice(size_t i, size_t pillar) {
    if (!ahead_.empty()) return ahead_[i][pillar];
    if (current_ != i) Encode(i);
    return views_[pillar];
  }

 private:
  void Encode(size_t i) {
    const std::string& bytes = objects_[i].bytes;
    views_ = encoder_.Encode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
    current_ = i;
    std::string hashes;
    AppendSliceHashes(views_, hashes);
    SealHashes(manifests_[i], std::move(hashes));
  }

  codec::SegmentEncoder& encoder_;
  const std::vector<NewObject>& objects_;
  std::vector<wire::Manifest>& manifests_;
  size_t current_ = ~size_t{0};
  std::vector<std::span<const uint8_t>> views_;
  std::vector<std::vector<std::vector<uint8_t>>> ahead_;  // object -> pillar -> slice
};

// Deletes a revision that too few units stored where it was stored (best effort, as a failed
// put does).
void DropStored(net::Cluster& c, const std::string& name, uint64_t rev,
                const std::vector<size_t>& units) {
  for (size_t u : units) {
    wire::Request del;
    del.op = wire::Op::kDelSlice;
    del.name = name;
    del.rev = rev;
    auto id = c.Send(u, del);
    if (id.ok()) c.Forget(*id);  // fire and forget: a leftover pending revision is harmless
  }
}

// What one call's two rounds did: a status per object, and which objects a unit refused
// because it has a newer revision committed (those are not published: see PutSmallObjects).
struct Stored {
  std::vector<Status> status;
  std::vector<bool> newer;
};

// PutNewObjects' two rounds; with `enough` > 0, the slice round gives units still silent once
// every object has that many acknowledgements only a short grace (RoundRules::enough).
Stored PutInRounds(net::Cluster& c, const std::vector<NewObject>& objects, const PutOptions& o,
                   const std::vector<size_t>& skip, size_t enough) {
  Stored out{std::vector<Status>(objects.size()), std::vector<bool>(objects.size(), false)};
  if (objects.empty()) return out;
  std::vector<std::vector<size_t>> pillars;
  pillars.reserve(objects.size());
  for (const NewObject& obj : objects) pillars.push_back(PillarUnits(c, obj));
  const size_t n = pillars.front().size();
  for (const auto& p : pillars) {
    if (p.size() != n) {
      out.status.assign(objects.size(),
                        Status::Invalid("put: objects of one batch have different n"));
      return out;
    }
  }
  auto coder = codec::ErasureCoder::Create(static_cast<int>(o.t.k), static_cast<int>(n));
  if (!coder.ok()) {
    out.status.assign(objects.size(), coder.status());
    return out;
  }
  codec::SegmentEncoder encoder(*coder);
  std::vector<bool> down(c.size(), false);
  for (size_t u : skip) {
    if (u < down.size()) down[u] = true;
  }

  std::vector<wire::Manifest> manifests = ManifestsOf(objects, pillars, o, c);
  std::vector<std::vector<size_t>> targets = pillars;
  for (size_t i = 0; i < objects.size(); ++i) {
    for (const auto& [u, why] : objects[i].left_out) std::erase(targets[i], u);
  }
  // Round 1: every object's slices, to every unit.
  SliceSource source(encoder, objects, manifests, o.segment_size);
  RoundRules slice_rules;
  slice_rules.enough = enough;
  auto slices = Round(c, targets, down, slice_rules, [&](size_t i, size_t u) -> Result<uint64_t> {
    const auto& bytes = objects[i].bytes;
    if (bytes.size() > o.segment_size) {
      return Status::Invalid("put " + objects[i].name + ": larger than one segment");
    }
    const size_t pillar = static_cast<size_t>(std::find(pillars[i].begin(), pillars[i].end(), u) -
                                              pillars[i].begin());
    const std::span<const uint8_t> payload = source.Slice(i, pillar);
    wire::Request req =
        SliceRequest(objects[i].name, bytes, manifests[i].rev, o, n, pillar, payload);
    return c.Send(u, req, payload);
  });

  for (size_t i = 0; i < objects.size(); ++i) {
    for (const auto& [u, why] : objects[i].left_out) {
      slices[i].Fail(why.message());
      slices[i].forbidden += why.code() == Code::kForbidden ? 1 : 0;
    }
  }

  // Round 2: publish each object that >= w units stored, on those units. The others are
  // deleted where they were stored, and so is one that any unit fenced (as PutObject does: its
  // writer lost the claim, and a later revision of a stale owner must not cover the new one's),
  // and one that a unit holds a newer revision of (published, it would cover that revision on
  // the units that lack it; PutSmallObjects writes it again past that revision).
  std::vector<std::vector<size_t>> publish_to(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    if (slices[i].units.size() >= o.t.w && !slices[i].fenced && !slices[i].newer) {
      publish_to[i] = slices[i].units;
      continue;
    }
    out.newer[i] = slices[i].newer && !slices[i].fenced;
    out.status[i] = out.newer[i] ? Status::Conflict("put " + objects[i].name + ": " + slices[i].why)
                                 : TooFew(objects[i].name, "stored", slices[i], o.t.w, n);
    DropStored(c, objects[i].name, manifests[i].rev, slices[i].units);
  }
  RoundRules publish_rules;
  publish_rules.conflict_acks = true;
  auto published =
      Round(c, publish_to, down, publish_rules, [&](size_t i, size_t u) -> Result<uint64_t> {
        wire::Request pub;
        pub.op = wire::Op::kPublish;
        pub.name = objects[i].name;
        pub.manifest = manifests[i];
        return c.Send(u, pub);
      });
  for (size_t i = 0; i < objects.size(); ++i) {
    if (publish_to[i].empty()) continue;
    if (published[i].units.size() < o.t.w || published[i].fenced) {
      out.status[i] =
          TooFew(objects[i].name, "stored, but published (it may or may not be visible)",
                 published[i], o.t.w, n);
    }
  }
  return out;
}

// The ids the network knows for the units of `view` (node list, or reported by a stat), for
// CheckOneUnitEach; "" where none is known.
std::vector<std::string> KnownIds(const net::Cluster& network, const std::vector<size_t>& units) {
  std::vector<std::string> ids;
  ids.reserve(units.size());
  for (size_t u : units) ids.push_back(network.Entry(u).id);
  return ids;
}

}  // namespace

std::vector<Status> PutNewObjects(net::Cluster& c, const std::vector<NewObject>& objects,
                                  const PutOptions& o, const std::vector<size_t>& skip) {
  return PutInRounds(c, objects, o, skip, /*enough=*/0).status;
}

std::vector<Status> PutSmallObjects(net::Cluster& network, std::vector<NewObject> objects,
                                    const PutOptions& o) {
  if (objects.empty()) return {};
  // Each object on its own placement; one view over all of them carries the rounds.
  std::vector<size_t> joined;  // network units
  std::vector<std::vector<size_t>> placed;
  for (const NewObject& obj : objects) {
    auto view = WriteView(network, obj.name, o.t.n);
    if (!view.ok()) return std::vector<Status>(objects.size(), view.status());
    placed.push_back(view->members());
    for (size_t u : view->members()) {
      if (std::find(joined.begin(), joined.end(), u) == joined.end()) joined.push_back(u);
    }
  }
  net::Cluster all = network.View(joined);
  for (size_t i = 0; i < objects.size(); ++i) {
    // Two entries of the list that are one unit would hold two pillars: refused, as a writer's
    // stat round refuses them (here with the ids the network knows already).
    if (Status one = CheckOneUnitEach(network.View(placed[i]), KnownIds(network, placed[i]));
        !one.ok()) {
      return std::vector<Status>(objects.size(), one);
    }
    objects[i].units.clear();
    for (size_t u : placed[i]) {
      objects[i].units.push_back(
          static_cast<size_t>(std::find(joined.begin(), joined.end(), u) - joined.begin()));
    }
  }
  // First without a stat round: a fresh revision from the clock is past the committed one
  // unless a clock is behind, and then a unit that holds the newer one refuses the slice.
  const size_t enough = WriterEnough(placed.front().size(), o.t.w);
  Stored first = PutInRounds(all, objects, o, {}, enough);
  std::vector<size_t> again;  // objects a unit holds a newer revision of
  for (size_t i = 0; i < objects.size(); ++i) {
    if (first.newer[i] && objects[i].exists_maybe) again.push_back(i);
  }
  if (again.empty()) return first.status;

  // Those go past the revision a stat round finds, as PutObject's do: enough answers for a
  // writer, then a short grace for the rest.
  std::vector<NewObject> redo;
  std::vector<size_t> redo_of;  // redo[j] is objects[redo_of[j]]
  std::vector<size_t> skip;     // units of `all`
  for (size_t i : again) {
    NewObject obj = objects[i];
    net::Cluster own = network.View(placed[i]);
    const Location loc = Locate(own, obj.name, false, false, WriterEnough(own.size(), o.t.w));
    if (Status one = CheckOneUnitEach(own, loc); !one.ok()) {
      first.status[i] = one;
      continue;
    }
    if (loc.manifest) obj.at_least = std::max(obj.at_least, loc.manifest->rev + 1);
    for (size_t u = 0; u < own.size(); ++u) {
      const UnitView& v = loc.units[u];
      if (v.refused) {
        obj.left_out.emplace_back(obj.units[u], v.error);
      } else if (!v.answered) {
        skip.push_back(obj.units[u]);  // silent: left out of every object of the put
      }
    }
    redo.push_back(std::move(obj));
    redo_of.push_back(i);
  }
  const Stored second = PutInRounds(all, redo, o, skip, enough);
  for (size_t j = 0; j < redo.size(); ++j) first.status[redo_of[j]] = second.status[j];
  return first.status;
}

}  // namespace dstk::client
