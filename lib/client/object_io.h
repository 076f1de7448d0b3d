// Storing and reading whole objects over a Cluster: put, get, rm, ls and stat.
//
// put streams the input segment by segment (a few segments in flight), so memory stays flat
// whatever the object's size; it succeeds when >= w units stored every slice, then publishes.
// get locates the newest committed revision and reads each segment from k units, asking another
// holder whenever one fails, times out or returns a slice whose CRC fails.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/locate.h"
#include "client/options.h"
#include "net/cluster.h"
#include "util/status.h"
#include "wire/message.h"

namespace dstk::client {

// Told of each unit a put that succeeded left out (down, silent, full, refusing), with why; the
// object then holds fewer slices than n until `dsenc repair` fills that unit in.
using LeftOutSink = std::function<void(size_t unit, const std::string& why)>;

struct PutOptions {
  Thresholds t;
  uint32_t segment_size = codec::kDefaultSegmentSize;
  uint32_t window = 3;  // segments in flight
  bool fresh = false;   // the name is new (a queue key): skip the stat round
  uint64_t token = 0;   // fencing token (a claim's) the units check the write against
  // Small and many (dsrun's outputs and run logs): a unit appends a one-segment object to its
  // pack log instead of creating a directory and two files for it (store/pack_log.h). Readers
  // see no difference; larger objects are stored as files whatever this says.
  bool pack = false;
  LeftOutSink left_out;  // optional
};

// Reads `fd` to its end and stores it as a new revision of `name`. On failure the previous
// revision stays readable and what was written of the new one is deleted (best effort).
Result<wire::Manifest> PutObject(net::Cluster& cluster, const std::string& name, int fd,
                                 const PutOptions& options, const ProgressSink& progress = {});

// What a read met on its way that the caller should hear of (a front end prints it as a
// warning; repair rewrites the liars' slices). Unit indices are in the read's cluster.
struct ReadReport {
  std::vector<size_t> lied;         // units that served a slice its digest does not match
  std::vector<size_t> unconfirmed;  // units whose newer revision or tombstone was not believed
  std::optional<wire::Manifest> passed_over;  // the newest of those, when one was
  std::vector<std::string> notes;             // each of the above as a sentence naming the unit
};

struct GetOptions {
  // w decides when "not found" is certain (see AbsenceIsCertain); with k and w, how many
  // identical manifests the reader needs to believe one (client/integrity.h, TrustCopies).
  Thresholds t;
  uint32_t window = 3;  // segments in flight
  // Where the object was located on this cluster already (client/find.h): no stat round.
  const Location* located = nullptr;
  ReadReport* report = nullptr;  // optional
};

// A new object small enough for one segment, for PutNewObjects and PutSmallObjects.
struct NewObject {
  std::string name;
  std::string bytes;
  // The revision is made not below this (a revision a stat round found, plus one); 0: any.
  uint64_t at_least = 0;
  // For PutSmallObjects: the name may hold revisions already (a function's output): when a unit
  // holds a newer one than the clock gives, a stat round finds it and the put goes past it. A
  // queue key or a consume-mode run log is new, and such a refusal fails it (kConflict).
  bool exists_maybe = false;
  // For PutNewObjects: the cluster's units that hold pillars 0..n-1, in pillar order; empty:
  // every unit, pillar i on unit i. All objects of one call have the same n.
  std::vector<size_t> units;
  // Units (of the cluster) this object is not sent to, with why: they refused its stat round.
  std::vector<std::pair<size_t, Status>> left_out;
};

// Stores objects whose names are new (queue keys: no stat round) in two fan-out rounds for all
// of them: every slice of every object, then a publish of each object that >= w units stored.
// A unit that misses the timeout is not asked again within the call. One status per object, in
// order; an object whose slices too few units stored is deleted from those (best effort).
// Units in `skip` are left out from the start, as if they had missed the timeout already.
std::vector<Status> PutNewObjects(net::Cluster& cluster, const std::vector<NewObject>& objects,
                                  const PutOptions& options, const std::vector<size_t>& skip = {});
// Stores small objects (each one segment) that may already exist, each on the units of
// `network` placed for its name (client/find.h WriteView; `units` is set here), in PutNewObjects'
// two rounds for all of them, with no stat round: a revision from the clock is newer than the
// stored one unless a clock is behind. Then a unit that holds the newer revision refuses the
// slice, the object is not published (it would cover that revision on the units that lack it),
// and an object marked exists_maybe is put again after a stat round, past the newest revision
// found (as PutObject's is; a unit that refused the stat is left out of that object, a silent
// one out of the put). Once every object has max(w, n-w+1) acknowledgements of its slices, the
// units still silent get a short grace, not the whole timeout, and are left out. dsrun stores a
// function's small output and its run log this way: two rounds, not five.
std::vector<Status> PutSmallObjects(net::Cluster& network, std::vector<NewObject> objects,
                                    const PutOptions& options);

// Writes the newest committed revision of `name` to `fd`. kNotFound when there is none (or it
// was removed), kUnavailable when fewer than k units can serve a segment, kCorruption when the
// slices found are damaged beyond what k good ones can make up for.
Result<wire::Manifest> GetObject(net::Cluster& cluster, const std::string& name, int fd,
                                 const GetOptions& options, const ProgressSink& progress = {});

// Removes `name`: publishes a tombstone revision on the units; needs w acknowledgements.
Status RemoveObject(net::Cluster& cluster, const std::string& name, const Thresholds& t);

// Names under `prefix` whose newest committed revision is not a tombstone, merged from every
// unit that answers, in byte order. Needs answers from at least `min_units` units.
// With `max_entries` > 0, only the first max_entries names (in byte order) are gathered.
// With `start_after`, only names after it. With `enough` > 0, waits for that many units to
// answer in full and for the rest only as long again, not a whole timeout (a claimer must not
// wait a timeout per walk for a unit that is down; the grace still lets it see names that only
// one unit holds, such as a function that unit missed the commit of). A name counts as removed
// only when `copies` units report its newest tombstone (client/integrity.h, TrustCopies).
// With `lane`, only the names of that lane (wire::ListLane): units of earlier versions list
// every name, so a caller that needs one lane only still checks each name's lane.
Result<std::vector<wire::ListEntry>> ListObjects(net::Cluster& cluster, const std::string& prefix,
                                                 size_t min_units, size_t max_entries = 0,
                                                 const std::string& start_after = "",
                                                 size_t enough = 0, uint32_t copies = 1,
                                                 wire::ListLane lane = {});

}  // namespace dstk::client
