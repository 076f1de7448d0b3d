#include "net/gather.h"

#include <algorithm>
#include <unordered_map>

namespace dstk::net {

Gathered Gather(Cluster& c, const std::vector<size_t>& units,
                const std::function<Result<uint64_t>(size_t unit)>& send, const GatherOptions& o) {
  Gathered out;
  std::unordered_map<uint64_t, size_t> pending;  // request id -> unit
  for (size_t u : units) {
    auto id = send(u);
    if (!id.ok()) {
      out.unsent.emplace_back(u, id.status());
      continue;
    }
    pending[*id] = u;
  }
  auto deadline = Clock::now() + c.timeout();
  while (!pending.empty() && !(o.enough && o.enough(out.replies, pending.size()))) {
    if (o.deadline) deadline = std::min(deadline, o.deadline(deadline));
    auto resp = c.Receive(deadline);
    if (!resp) break;
    auto it = pending.find(resp->reply.id);
    if (it == pending.end()) continue;  // a reply to another round's request
    pending.erase(it);
    if (o.on_reply) o.on_reply(*resp);
    if (o.keep) out.replies.push_back(std::move(*resp));
  }
  for (const auto& [id, u] : pending) {
    c.Forget(id);
    out.silent.push_back(u);
  }
  std::sort(out.silent.begin(), out.silent.end());
  return out;
}

Gathered Gather(Cluster& c, const std::vector<size_t>& units, const wire::Request& req,
                const GatherOptions& o) {
  return Gather(
      c, units,
      [&](size_t u) {
        wire::Request r = req;  // Send assigns the id
        return c.Send(u, r);
      },
      o);
}

}  // namespace dstk::net
