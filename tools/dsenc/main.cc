// dsenc: put, get, rm, ls and stat objects on a dstk network; split, join and inspect slice
// record streams offline. Each subcommand is a function in object_commands.cc or
// stream_commands.cc; this file only declares the command line.
#include <signal.h>

#include "commands.h"
#include "sigbus.h"
#include "wire/name.h"

namespace {

// CLI11 validator for object names, so a bad name is a usage error before anything runs.
struct NameValidator : CLI::Validator {
  explicit NameValidator(bool prefix) {
    name_ = prefix ? "PREFIX" : "NAME";
    func_ = [prefix](const std::string& s) {
      dstk::Status st = prefix ? dstk::wire::ValidatePrefix(s) : dstk::wire::ValidateName(s);
      return st.ok() ? std::string() : st.message();
    };
  }
};

}  // namespace

int main(int argc, char** argv) {
  using namespace dstk::tools::dsenc;
  signal(SIGPIPE, SIG_IGN);
  dstk::tools::ExitOnSigbus();  // split, put and repair map their input files
  CLI::App app{"dsenc - store objects on a dstk network, and split/join/inspect slice streams",
               "dsenc"};
  app.require_subcommand(1);
  app.set_version_flag("--version", dstk::tools::Version());
  Common c;
  dstk::tools::AddVerbosityFlags(app, c.verbosity);
  app.add_flag("--json", c.json, "Print results as JSON lines");
  app.add_option("--segment-size", c.segment_size, "Bytes per segment (default 4 MiB)")
      ->check(CLI::Range(1u, 64u << 20));
  // The network flags belong to dsenc itself and may come before or after the subcommand.
  dstk::tools::AddNetworkFlags(app, c.net);
  app.fallthrough();
  app.footer("Global and network options may come before or after the subcommand.");

  std::string name, file, prefix;
  bool nul = false;
  uint32_t k = 0, n = 0;

  auto* put = app.add_subcommand("put", "Store FILE (or stdin) as object NAME");
  put->add_option("NAME", name, "Object name")->required()->check(NameValidator(false));
  put->add_option("FILE", file, "Input file (default: stdin)");
  put->add_option("--token", c.token,
                  "Fencing token: the claim token a function's owner writes with");

  auto* get = app.add_subcommand("get", "Write object NAME to stdout");
  get->add_option("NAME", name, "Object name")->required()->check(NameValidator(false));

  auto* rm = app.add_subcommand("rm", "Remove object NAME");
  rm->add_option("NAME", name, "Object name")->required()->check(NameValidator(false));

  auto* ls = app.add_subcommand("ls", "List object names under PREFIX, one a line");
  ls->add_option("PREFIX", prefix, "Name prefix (default: all)")->check(NameValidator(true));
  ls->add_flag("-0,--null", nul, "Separate names with NUL, for xargs -0");

  auto* stat = app.add_subcommand("stat",
                                  "Show NAME's revision, size and which units hold good slices; "
                                  "without NAME, every unit's health");
  stat->add_option("NAME", name, "Object name (none: the network's health)")
      ->check(NameValidator(false));

  auto* split =
      app.add_subcommand("split", "Encode FILE (or stdin) into a slice record stream on stdout");
  split->add_option("-k", k, "Decode threshold")->required()->check(CLI::Range(1, 255));
  split->add_option("-n", n, "Pillar width (slices per segment)")
      ->required()
      ->check(CLI::Range(1, 255));
  split->add_option("--name", name, "Object name recorded in the slices")
      ->default_str("stdin")
      ->check(NameValidator(false));
  split->add_option("FILE", file, "Input file (default: stdin)");
  split
      ->add_option("--threads", c.threads,
                   "Threads that encode each segment together (default: one per available core)")
      ->check(CLI::Range(1u, 256u));

  std::string keyfile;
  bool sign_key = false;
  auto* keygen = app.add_subcommand(
      "keygen",
      "Make a key pair: FILE (secret, 0600) and FILE.pub; CurveZMQ, or with --sign "
      "Ed25519 for signing functions");
  keygen->add_option("FILE", keyfile, "Where to write the secret key")->required();
  keygen->add_flag("--sign", sign_key,
                   "An Ed25519 signing key (push --sign) instead of a CurveZMQ key");

  bool all = false;
  auto* repair = app.add_subcommand(
      "repair", "Rebuild missing or corrupt slices of NAME (or --all) from good ones");
  repair->add_option("NAME", name, "Object name, or with --all a name prefix")
      ->check(NameValidator(true));
  repair->add_flag("--all", all, "Scrub: check and repair every object (under NAME as a prefix)");

  auto* nodes = app.add_subcommand(
      "nodes", "Print the node list with every unit's id filled in (asks each unit once)");

  auto* place = app.add_subcommand(
      "place", "Print the units NAME is placed on for width -n, pillar by pillar");
  place->add_option("NAME", name, "Object or queue name")->required()->check(NameValidator(false));

  auto* rebalance = app.add_subcommand(
      "rebalance",
      "Move the slices whose placement changed (units added, leaving or removed) under PREFIX");
  rebalance->add_option("PREFIX", prefix, "Name prefix (default: every object)")
      ->check(NameValidator(true));

  PushArgs pa;
  auto* push = app.add_subcommand(
      "push", "Store a function (a command and its objects) on QUEUE; print its key");
  push->add_option("QUEUE", pa.queue, "Queue name")->required()->check(NameValidator(false));
  // One object per --in: CLI11 would otherwise take `--` as the end of the --in values and
  // parse the command's own options (`-- wc -c`) as dsenc's.
  push->add_option("--in", pa.inputs,
                   "Object streamed into the command's stdin (repeatable, in order)")
      ->allow_extra_args(false);
  push->add_option("--out", pa.output, "Object that stores the command's stdout");
  push->add_option("--timeout", pa.timeout_s,
                   "Wall-clock limit of one run, in seconds (0: dsrun's default)");
  push->add_option("--attempts", pa.attempts, "Runs before the function goes to QUEUE.failed")
      ->capture_default_str();
  push->add_option(
      "--from", pa.from,
      "Push many: JSON lines {\"argv\":[...],\"in\":[...],\"out\":\"...\"} from FILE or - (stdin)");
  push->add_option("--sign", pa.sign_key,
                   "Sign the functions with this Ed25519 secret key (dsenc keygen --sign): "
                   "workers with --trust run only functions signed by keys they trust");
  push->add_option("CMD", pa.argv, "The command and its arguments, after --");

  auto* join = app.add_subcommand("join", "Rebuild the bytes from a slice record stream on stdin");
  auto* inspect = app.add_subcommand("inspect", "Print any record stream on stdin as JSON lines");

  if (int rc = dstk::tools::ParseArgs(app, argc, argv); rc >= 0) return rc;
  if (*put) return Put(c, name, file);
  if (*push) return Push(c, pa);
  if (*get) return Get(c, name);
  if (*rm) return Remove(c, name);
  if (*ls) return List(c, prefix, nul);
  if (*stat) return Stat(c, name);
  if (*keygen) return Keygen(keyfile, sign_key);
  if (*repair) return Repair(c, name, all);
  if (*nodes) return Nodes(c);
  if (*place) return Place(c, name);
  if (*rebalance) return Rebalance(c, prefix);
  if (*split) return Split(c, k, n, name.empty() ? "stdin" : name, file);
  if (*join) return Join(c);
  if (*inspect) return Inspect(c);
  return dstk::kExitUsage;
}
