#include "claim/rounds.h"

#include <algorithm>
#include <chrono>
#include <thread>

namespace dstk::claim {

std::vector<net::Response> TracedGather(
    net::Cluster& c, const std::vector<size_t>& units, const wire::Request& req,
    const std::function<bool(const std::vector<net::Response>&, size_t)>& enough,
    const ClaimOptions& o, std::vector<size_t>* unsent) {
  net::GatherOptions g;
  g.enough = enough;
  if (o.trace) {
    g.on_reply = [&](const net::Response& resp) {
      o.trace({true, resp.unit, req.op, req.name, req.ballot,
               wire::ReplyStatusName(resp.reply.status), resp.reply.claim});
    };
  }
  net::Gathered got = net::Gather(
      c, units,
      [&](size_t u) -> Result<uint64_t> {
        wire::Request r = req;
        auto id = c.Send(u, r);
        if (id.ok() && o.trace) o.trace({false, u, r.op, r.name, r.ballot, "", std::nullopt});
        return id;
      },
      g);
  if (unsent != nullptr) {
    for (const auto& [u, why] : got.unsent) unsent->push_back(u);
  }
  return std::move(got.replies);
}

size_t OkCount(const std::vector<net::Response>& got) {
  size_t ok = 0;
  for (const auto& r : got) ok += r.reply.ok();
  return ok;
}

void SendAll(net::Cluster& c, const std::vector<size_t>& units, wire::Op op, const std::string& key,
             const wire::Ballot& b, const ClaimOptions& o) {
  for (size_t u : units) {
    wire::Request r;
    r.op = op;
    r.name = key;
    r.ballot = b;
    auto id = c.Send(u, r);
    if (id.ok()) {
      c.Forget(*id);
      if (o.trace) o.trace({false, u, r.op, key, b, "", std::nullopt});
    }
  }
}

void ReleaseAll(net::Cluster& c, const std::vector<size_t>& units, const std::string& key,
                const wire::Ballot& b, const ClaimOptions& o) {
  SendAll(c, units, wire::Op::kRelease, key, b, o);
}

void Backoff(std::mt19937_64& rng, int round) {
  const int cap = std::min(200, 2 << std::min(round, 7));
  std::this_thread::sleep_for(
      std::chrono::milliseconds(1 + static_cast<int>(rng() % static_cast<uint64_t>(cap))));
}

}  // namespace dstk::claim
