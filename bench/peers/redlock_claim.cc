// Redlock over R redis-server instances as a work queue, doing what dsclaim does: walk the queue
// in order; for each item SET lock NX PX on all instances at once (pipelined, one connection
// each), win on a majority; the winner reads the item (GET on all) and deletes it (DEL on all);
// a loser releases its locks (compare-and-delete script) and moves to the next item; the
// winner keeps its lock until it expires (PX 30 s), so the consumed item is skipped cheaply. A
// walker that reaches the end after losing some items starts again from the head (like dsclaim's
// passes, each listing the queue again: EXISTS on all instances), until a pass finds nothing
// left.
//   redlock_claim load  PORTS N              store items q:item:00000000.. on every instance
//   redlock_claim claim PORTS N WORKERS      claim them with WORKERS threads; prints stats
// PORTS is comma-separated (127.0.0.1 only).
#include <hiredis/hiredis.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

std::vector<int> ParsePorts(const char* s) {
  std::vector<int> p;
  for (const char* c = s; *c;) {
    p.push_back(std::atoi(c));
    while (*c && *c != ',') ++c;
    if (*c == ',') ++c;
  }
  return p;
}

std::vector<redisContext*> Connect(const std::vector<int>& ports) {
  std::vector<redisContext*> cs;
  for (int port : ports) {
    redisContext* c = redisConnect("127.0.0.1", port);
    if (!c || c->err) {
      std::fprintf(stderr, "redis %d: %s\n", port, c ? c->errstr : "alloc");
      std::exit(6);
    }
    cs.push_back(c);
  }
  return cs;
}

std::string ItemKey(long i) {
  char b[32];
  std::snprintf(b, sizeof b, "q:item:%08ld", i);
  return b;
}

const char* kRelease =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else "
    "return 0 end";

struct Stats {
  std::atomic<long> won{0}, lost{0}, gone{0}, attempts{0};
};

void Worker(const std::vector<int>& ports, long n, Stats& st, unsigned seed) {
  auto cs = Connect(ports);
  const size_t r = cs.size(), quorum = r / 2 + 1;
  std::mt19937_64 rng(seed);
  std::vector<char> done(n, 0);
  char token[32];
  for (int pass = 0;; ++pass) {
    bool contended = false;
    for (long i = 0; i < n; ++i) {
      if (done[i]) continue;
      if (pass > 0) {  // a new pass lists the queue again: skip items gone from a majority
        const std::string item = ItemKey(i);
        for (auto* c : cs) redisAppendCommand(c, "EXISTS %s", item.c_str());
        size_t absent = 0;
        for (auto* c : cs) {
          void* rep = nullptr;
          if (redisGetReply(c, &rep) == REDIS_OK && rep) {
            auto* rr = static_cast<redisReply*>(rep);
            if (rr->type == REDIS_REPLY_INTEGER && rr->integer == 0) ++absent;
            freeReplyObject(rr);
          }
        }
        if (absent >= quorum) {
          done[i] = 1;
          continue;
        }
      }
      const std::string item = ItemKey(i), lock = "lock:" + item;
      std::snprintf(token, sizeof token, "%016llx", static_cast<unsigned long long>(rng()));
      ++st.attempts;
      for (auto* c : cs) redisAppendCommand(c, "SET %s %s NX PX 30000", lock.c_str(), token);
      size_t ok = 0;
      std::vector<char> got(r, 0);
      for (size_t u = 0; u < r; ++u) {
        void* rep = nullptr;
        if (redisGetReply(cs[u], &rep) == REDIS_OK && rep) {
          auto* rr = static_cast<redisReply*>(rep);
          if (rr->type == REDIS_REPLY_STATUS) ++ok, got[u] = 1;
          freeReplyObject(rr);
        }
      }
      if (ok < quorum) {
        // Release where we locked (on loopback every SET is answered, so the others are not ours).
        for (size_t u = 0; u < r; ++u)
          if (got[u]) redisAppendCommand(cs[u], "EVAL %s 1 %s %s", kRelease, lock.c_str(), token);
        for (size_t u = 0; u < r; ++u) {
          void* rep = nullptr;
          if (got[u] && redisGetReply(cs[u], &rep) == REDIS_OK && rep) freeReplyObject(rep);
        }
        ++st.lost;
        contended = true;
        continue;
      }
      // Won the lock: read and delete the item everywhere.
      for (auto* c : cs) redisAppendCommand(c, "GET %s", item.c_str());
      size_t present = 0;
      for (auto* c : cs) {
        void* rep = nullptr;
        if (redisGetReply(c, &rep) == REDIS_OK && rep) {
          auto* rr = static_cast<redisReply*>(rep);
          if (rr->type == REDIS_REPLY_STRING) ++present;
          freeReplyObject(rr);
        }
      }
      if (present > 0) {
        for (auto* c : cs) redisAppendCommand(c, "DEL %s", item.c_str());
        for (auto* c : cs) {
          void* rep = nullptr;
          if (redisGetReply(c, &rep) == REDIS_OK && rep) freeReplyObject(rep);
        }
        ++st.won;
      } else {
        ++st.gone;  // consumed by another worker whose lock had been released
      }
      // The lock is kept (it expires after PX): a consumed item stays locked, so later walkers
      // lose it with one round trip, as dsclaim's walkers skip consumed keys when listing.
      done[i] = 1;
    }
    if (!contended) break;
    std::this_thread::sleep_for(std::chrono::microseconds(100 + rng() % 1000));
  }
  for (auto* c : cs) redisFree(c);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: redlock_claim load PORTS N | claim PORTS N WORKERS\n");
    return 2;
  }
  const std::string mode = argv[1];
  const auto ports = ParsePorts(argv[2]);
  const long n = std::atol(argv[3]);
  if (mode == "load") {
    auto cs = Connect(ports);
    for (auto* c : cs) {
      redisReply* rr = static_cast<redisReply*>(redisCommand(c, "FLUSHALL"));
      if (rr) freeReplyObject(rr);
      for (long i = 0; i < n; ++i)
        redisAppendCommand(c, "SET %s %s", ItemKey(i).c_str(), "{\"argv\":[\"true\"]}");
      for (long i = 0; i < n; ++i) {
        void* rep = nullptr;
        if (redisGetReply(c, &rep) != REDIS_OK) return 6;
        freeReplyObject(rep);
      }
      redisFree(c);
    }
    return 0;
  }
  const int workers = argc > 4 ? std::atoi(argv[4]) : 1;
  Stats st;
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> ts;
  for (int w = 0; w < workers; ++w)
    ts.emplace_back(Worker, std::cref(ports), n, std::ref(st), 1234u + w);
  for (auto& t : ts) t.join();
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("claims=%ld seconds=%.6f attempts=%ld lost=%ld gone=%ld\n", st.won.load(), secs,
              st.attempts.load(), st.lost.load(), st.gone.load());
  return st.won.load() == n ? 0 : 4;
}
