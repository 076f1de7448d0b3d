// Glue every tool shares: the flags that mean the same everywhere (--nodes, -k, -w,
// --timeout, -q/-v), one-line diagnostics prefixed with the tool's name, and the exit-code
// mapping. Front-end code only: lib/ never prints.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/options.h"
#include "net/keys.h"
#include "util/exit_code.h"
#include "util/status.h"

namespace dstk::tools {

// The flags that select and talk to the network.
struct NetworkFlags {
  std::string nodes_file;        // --nodes FILE
  std::optional<uint32_t> n;     // -n: width (default: client::DefaultWidth of the list)
  std::optional<uint32_t> k, w;  // -k, -w
  double timeout_s = 2.0;        // --timeout SECONDS
  std::string key_file;          // --key FILE (CurveZMQ client secret key), or $DSTK_KEY
};

// The client key pair from --key FILE or $DSTK_KEY; none when neither is set.
Result<std::optional<net::KeyPair>> ResolveKeys(const NetworkFlags& flags);

// Adds --nodes, -n, -k, -w and --timeout to `app` (or a subcommand).
void AddNetworkFlags(CLI::App& app, NetworkFlags& flags);

// The endpoints from --nodes FILE, else from $DSTK_NODES; kInvalidArgument when neither.
Result<std::vector<std::string>> ResolveNodes(const NetworkFlags& flags);

std::chrono::milliseconds TimeoutOf(const NetworkFlags& flags);

// n (from -n, else the default width for `units` units), k and w, checked.
Result<client::Thresholds> ThresholdsOf(const NetworkFlags& flags, size_t units);

// Everything the network flags resolve to, checked: the node list, k/w/n for it, the client
// keys and the reply timeout.
struct NetworkSettings {
  std::vector<std::string> nodes;
  client::Thresholds t;
  std::optional<net::KeyPair> keys;
  std::chrono::milliseconds timeout{0};
};
Result<NetworkSettings> ResolveNetwork(const NetworkFlags& flags);

// Verbosity shared by all tools: 0 = -q (errors only), 1 = default, 2 = -v.
struct Verbosity {
  int level = 1;
};
void AddVerbosityFlags(CLI::App& app, Verbosity& v);

// The opening every network tool shares: --version, the network flags and -q/-v. Also ignores
// SIGPIPE, so that a closed pipe is a write error the tool reports, not a silent death.
void AddToolFlags(CLI::App& app, NetworkFlags& net, Verbosity& v);

// Prints "TOOL: message" to stderr.
void Diag(const char* tool, const std::string& message);

// Prints the failure and returns the documented exit code for it.
int Fail(const char* tool, const Status& s);

// Runs CLI11's parse; returns an exit code to leave with, or -1 to go on.
int ParseArgs(CLI::App& app, int argc, char** argv);

// The version string every tool prints for --version.
const char* Version();

}  // namespace dstk::tools
