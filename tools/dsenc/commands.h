// dsenc's subcommands, one function each; main.cc wires them to CLI11.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cli_common.h"
#include "net/cluster.h"
#include "util/unique_fd.h"

namespace dstk::tools::dsenc {

struct Common {
  NetworkFlags net;
  Verbosity verbosity;
  bool json = false;
  uint32_t segment_size = 4u << 20;
  uint64_t token = 0;
  unsigned threads = 0;  // split: threads that encode a segment together (0: one per core)
};

struct PushArgs {
  std::string queue;
  std::vector<std::string> inputs;
  std::string output;
  uint32_t timeout_s = 0;
  uint32_t attempts = 3;
  std::string from;               // --from FILE ("-" = stdin): JSON lines
  std::string sign_key;           // --sign FILE: Ed25519 secret key
  std::vector<std::string> argv;  // after --
};

// The network and thresholds every network subcommand starts from.
struct Session {
  std::unique_ptr<net::Cluster> cluster;  // the whole node list
  client::Thresholds t;
};
Result<Session> Connect(const Common& c);

// The input FILE of put and split, opened; none (an invalid fd: read stdin, which is not ours
// to close) for "" or "-".
Result<UniqueFd> OpenInput(const std::string& file);

// Push checks the queue's name before it connects. The other network subcommands start from
// the Session main.cc's Dispatch connects for them.
int Push(const Common& c, const PushArgs& a);
int Put(const Common& c, Session& s, const std::string& name, const std::string& file);
int Get(const Common& c, Session& s, const std::string& name);
int Remove(Session& s, const std::string& name);
int List(const Common& c, Session& s, const std::string& prefix, bool nul);
int Stat(const Common& c, Session& s, const std::string& name);
int Repair(const Common& c, Session& s, const std::string& name, bool all);
int Keygen(const std::string& file, bool sign);
int Nodes(const Common& c, Session& s);
int Place(const Common& c, Session& s, const std::string& name);
int Rebalance(const Common& c, Session& s, const std::string& prefix);
int Split(const Common& c, uint32_t k, uint32_t n, const std::string& name,
          const std::string& file);
int Join(const Common& c);
int Inspect(const Common& c);

}  // namespace dstk::tools::dsenc
