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

// What the command line says, as parsed: one field per positional or option of any subcommand.
struct Args {
  dstk::tools::dsenc::Common c;
  std::string name, file, prefix;
  bool nul = false;
  uint32_t k = 0, n = 0;
  std::string keyfile;
  bool sign_key = false;
  bool all = false;
  dstk::tools::dsenc::PushArgs pa;
};

// The subcommands, each set when chosen.
struct Subcommands {
  CLI::App *put, *get, *rm, *ls, *stat, *repair, *nodes, *place, *rebalance, *push;
  CLI::App *split, *join, *inspect, *keygen;
};

// The flags every subcommand takes, before or after its name.
void AddGlobalFlags(CLI::App& app, Args& a) {
  app.require_subcommand(1);
  app.set_version_flag("--version", dstk::tools::Version());
  dstk::tools::AddVerbosityFlags(app, a.c.verbosity);
  app.add_flag("--json", a.c.json, "Print results as JSON lines");
  app.add_option("--segment-size", a.c.segment_size, "Bytes per segment (default 4 MiB)")
      ->check(CLI::Range(1u, 64u << 20));
  // The network flags belong to dsenc itself and may come before or after the subcommand.
  dstk::tools::AddNetworkFlags(app, a.c.net);
  app.fallthrough();
  app.footer("Global and network options may come before or after the subcommand.");
}

// The subcommands on objects in the network: put, get, rm, ls, stat.
void AddObjectCommands(CLI::App& app, Args& a, Subcommands& s) {
  s.put = app.add_subcommand("put", "Store FILE (or stdin) as object NAME");
  s.put->add_option("NAME", a.name, "Object name")->required()->check(NameValidator(false));
  s.put->add_option("FILE", a.file, "Input file (default: stdin)");
  s.put->add_option("--token", a.c.token,
                    "Fencing token: the claim token a function's owner writes with");

  s.get = app.add_subcommand("get", "Write object NAME to stdout");
  s.get->add_option("NAME", a.name, "Object name")->required()->check(NameValidator(false));

  s.rm = app.add_subcommand("rm", "Remove object NAME");
  s.rm->add_option("NAME", a.name, "Object name")->required()->check(NameValidator(false));

  s.ls = app.add_subcommand("ls", "List object names under PREFIX, one a line");
  s.ls->add_option("PREFIX", a.prefix, "Name prefix (default: all)")->check(NameValidator(true));
  s.ls->add_flag("-0,--null", a.nul, "Separate names with NUL, for xargs -0");

  s.stat = app.add_subcommand("stat",
                              "Show NAME's revision, size and which units hold good slices; "
                              "without NAME, every unit's health");
  s.stat->add_option("NAME", a.name, "Object name (none: the network's health)")
      ->check(NameValidator(false));
}

// The subcommands that look after the network (keys, repair, placement) and push functions.
void AddNetworkCommands(CLI::App& app, Args& a, Subcommands& s) {
  s.keygen = app.add_subcommand(
      "keygen",
      "Make a key pair: FILE (secret, 0600) and FILE.pub; CurveZMQ, or with --sign "
      "Ed25519 for signing functions");
  s.keygen->add_option("FILE", a.keyfile, "Where to write the secret key")->required();
  s.keygen->add_flag("--sign", a.sign_key,
                     "An Ed25519 signing key (push --sign) instead of a CurveZMQ key");

  s.repair = app.add_subcommand(
      "repair", "Rebuild missing or corrupt slices of NAME (or --all) from good ones");
  s.repair->add_option("NAME", a.name, "Object name, or with --all a name prefix")
      ->check(NameValidator(true));
  s.repair->add_flag("--all", a.all,
                     "Scrub: check and repair every object (under NAME as a prefix)");

  s.nodes = app.add_subcommand(
      "nodes", "Print the node list with every unit's id filled in (asks each unit once)");

  s.place = app.add_subcommand("place",
                               "Print the units NAME is placed on for width -n, pillar by pillar");
  s.place->add_option("NAME", a.name, "Object or queue name")
      ->required()
      ->check(NameValidator(false));

  s.rebalance = app.add_subcommand(
      "rebalance",
      "Move the slices whose placement changed (units added, leaving or removed) under PREFIX");
  s.rebalance->add_option("PREFIX", a.prefix, "Name prefix (default: every object)")
      ->check(NameValidator(true));

  s.push = app.add_subcommand(
      "push", "Store a function (a command and its objects) on QUEUE; print its key");
  s.push->add_option("QUEUE", a.pa.queue, "Queue name")->required()->check(NameValidator(false));
  // One object per --in: CLI11 would otherwise take `--` as the end of the --in values and
  // parse the command's own options (`-- wc -c`) as dsenc's.
  s.push
      ->add_option("--in", a.pa.inputs,
                   "Object streamed into the command's stdin (repeatable, in order)")
      ->allow_extra_args(false);
  s.push->add_option("--out", a.pa.output, "Object that stores the command's stdout");
  s.push->add_option("--timeout", a.pa.timeout_s,
                     "Wall-clock limit of one run, in seconds (0: dsrun's default)");
  s.push->add_option("--attempts", a.pa.attempts, "Runs before the function goes to QUEUE.failed")
      ->capture_default_str();
  s.push->add_option(
      "--from", a.pa.from,
      "Push many: JSON lines {\"argv\":[...],\"in\":[...],\"out\":\"...\"} from FILE or - (stdin)");
  s.push->add_option("--sign", a.pa.sign_key,
                     "Sign the functions with this Ed25519 secret key (dsenc keygen --sign): "
                     "workers with --trust run only functions signed by keys they trust");
  s.push->add_option("CMD", a.pa.argv, "The command and its arguments, after --");
}

// split: the offline encoder of a slice record stream.
void AddSplitCommand(CLI::App& app, Args& a, Subcommands& s) {
  s.split =
      app.add_subcommand("split", "Encode FILE (or stdin) into a slice record stream on stdout");
  s.split->add_option("-k", a.k, "Decode threshold")->required()->check(CLI::Range(1, 255));
  s.split->add_option("-n", a.n, "Pillar width (slices per segment)")
      ->required()
      ->check(CLI::Range(1, 255));
  s.split->add_option("--name", a.name, "Object name recorded in the slices")
      ->default_str("stdin")
      ->check(NameValidator(false));
  s.split->add_option("FILE", a.file, "Input file (default: stdin)");
  s.split
      ->add_option("--threads", a.c.threads,
                   "Threads that encode each segment together (default: one per available core)")
      ->check(CLI::Range(1u, 256u));
}

// join and inspect: the offline readers of record streams.
void AddStreamReadCommands(CLI::App& app, Subcommands& s) {
  s.join = app.add_subcommand("join", "Rebuild the bytes from a slice record stream on stdin");

  s.inspect = app.add_subcommand("inspect", "Print any record stream on stdin as JSON lines");
}

int Dispatch(const Args& a, const Subcommands& s) {
  using namespace dstk::tools::dsenc;
  const Common& c = a.c;
  if (*s.push) return Push(c, a.pa);
  if (*s.keygen) return Keygen(a.keyfile, a.sign_key);
  if (*s.split) return Split(c, a.k, a.n, a.name.empty() ? "stdin" : a.name, a.file);
  if (*s.join) return Join(c);
  if (*s.inspect) return Inspect(c);
  // Every other subcommand starts by connecting (exactly one subcommand is given).
  auto session = Connect(c);
  if (!session.ok()) return dstk::tools::Fail("dsenc", session.status());
  if (*s.put) return Put(c, *session, a.name, a.file);
  if (*s.get) return Get(c, *session, a.name);
  if (*s.rm) return Remove(*session, a.name);
  if (*s.ls) return List(c, *session, a.prefix, a.nul);
  if (*s.stat) return Stat(c, *session, a.name);
  if (*s.repair) return Repair(c, *session, a.name, a.all);
  if (*s.nodes) return Nodes(c, *session);
  if (*s.place) return Place(c, *session, a.name);
  if (*s.rebalance) return Rebalance(c, *session, a.prefix);
  return dstk::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  dstk::tools::ExitOnSigbus();  // split, put and repair map their input files
  CLI::App app{"dsenc - store objects on a dstk network, and split/join/inspect slice streams",
               "dsenc"};
  Args a;
  Subcommands s{};
  AddGlobalFlags(app, a);
  // In the order --help lists them.
  AddObjectCommands(app, a, s);
  AddSplitCommand(app, a, s);
  AddNetworkCommands(app, a, s);
  AddStreamReadCommands(app, s);
  if (int rc = dstk::tools::ParseArgs(app, argc, argv); rc >= 0) return rc;
  return Dispatch(a, s);
}
