#include "cli_common.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "client/placement.h"
#include "net/node_list.h"

namespace dstk::tools {

const char* Version() {
  return DSTK_VERSION;
}

void AddNetworkFlags(CLI::App& app, NetworkFlags& flags) {
  app.add_option("--nodes", flags.nodes_file,
                 "File listing the units, one a line: ENDPOINT [KEY] [id=ID] [domain=NAME] "
                 "[leaving] (default: $DSTK_NODES, comma-separated)");
  app.add_option("-n", flags.n,
                 "Width: units (slices) per object or queue (default: all units up to 8)")
      ->check(CLI::Range(1, 255));
  app.add_option("-k", flags.k, "Decode threshold: any k slices rebuild (default n-2, at least 1)");
  app.add_option("-w", flags.w, "Write threshold: a write needs w units (default k+1 when k<n)");
  app.add_option(
      "--key", flags.key_file,
      "CurveZMQ client secret key file (default: $DSTK_KEY); needed for units with keys");
  app.add_option("--timeout", flags.timeout_s, "Seconds to wait for any one unit's reply")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
}

Result<std::vector<std::string>> ResolveNodes(const NetworkFlags& flags) {
  if (!flags.nodes_file.empty()) {
    std::ifstream in(flags.nodes_file);
    if (!in) return Status::Invalid("cannot read the node list " + flags.nodes_file);
    std::stringstream text;
    text << in.rdbuf();
    auto nodes = net::ParseNodeList(text.str(), '\n');
    if (!nodes.ok()) return nodes.status().With(flags.nodes_file);
    return nodes;
  }
  if (const char* env = std::getenv("DSTK_NODES"); env != nullptr && *env != '\0') {
    auto nodes = net::ParseNodeList(env, ',');
    if (!nodes.ok()) return nodes.status().With("DSTK_NODES");
    return nodes;
  }
  return Status::Invalid("no storage units given: use --nodes FILE or set DSTK_NODES");
}

Result<std::optional<net::KeyPair>> ResolveKeys(const NetworkFlags& flags) {
  std::string path = flags.key_file;
  if (path.empty()) {
    if (const char* env = std::getenv("DSTK_KEY"); env != nullptr) path = env;
  }
  if (path.empty()) return std::optional<net::KeyPair>();
  auto keys = net::ReadSecretKey(path);
  if (!keys.ok()) return keys.status();
  return std::optional<net::KeyPair>(*keys);
}

Result<NetworkSettings> ResolveNetwork(const NetworkFlags& flags) {
  NetworkSettings s;
  auto nodes = ResolveNodes(flags);
  if (!nodes.ok()) return nodes.status();
  s.nodes = std::move(nodes).value();
  auto t = ThresholdsOf(flags, s.nodes.size());
  if (!t.ok()) return t.status();
  s.t = *t;
  auto keys = ResolveKeys(flags);
  if (!keys.ok()) return keys.status();
  s.keys = std::move(keys).value();
  s.timeout = TimeoutOf(flags);
  return s;
}

void AddToolFlags(CLI::App& app, NetworkFlags& net, Verbosity& v) {
  signal(SIGPIPE, SIG_IGN);
  app.set_version_flag("--version", Version());
  AddNetworkFlags(app, net);
  AddVerbosityFlags(app, v);
}

Result<client::Thresholds> ThresholdsOf(const NetworkFlags& flags, size_t units) {
  const uint32_t n = flags.n ? *flags.n : client::DefaultWidth(units);
  if (n > units) {
    return Status::Invalid("-n " + std::to_string(n) +
                           " is wider than the network: the node list has " +
                           std::to_string(units) + " units");
  }
  return client::ResolveThresholds(n, flags.k, flags.w);
}

std::chrono::milliseconds TimeoutOf(const NetworkFlags& flags) {
  return std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000.0));
}

void AddVerbosityFlags(CLI::App& app, Verbosity& v) {
  app.add_flag_callback(
      "-q,--quiet", [&v] { v.level = 0; }, "Print errors only");
  app.add_flag_callback(
      "-v,--verbose", [&v] { v.level = 2; }, "Print more detail");
}

void Diag(const char* tool, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n", tool, message.c_str());
}

int Fail(const char* tool, const Status& s) {
  Diag(tool, s.message());
  return ExitCodeFor(s);
}

int ParseArgs(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    Diag(app.get_name().c_str(), e.what());
    std::fprintf(stderr, "Run with --help for more information.\n");
    return kExitUsage;
  }
  return -1;
}

}  // namespace dstk::tools
