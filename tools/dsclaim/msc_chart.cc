#include "msc_chart.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <set>

#include "wire/message.h"

namespace dstk::tools {
namespace {

bool IsHex(const std::string& s, size_t from, size_t len) {
  if (from + len > s.size()) return false;
  return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(from),
                     s.begin() + static_cast<std::ptrdiff_t>(from + len),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool IsDigits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A queue key QUEUE/TTTTTTTTTTTTTTTT-PPPPPPPP (push time, producer) as QUEUE/..TTTT-PPPPPPPP:
// short enough for an arrow, and still one key apart from the producer's other keys.
std::string ShortKey(const std::string& key) {
  const size_t slash = key.rfind('/');
  if (slash == std::string::npos || key.size() != slash + 1 + 16 + 1 + 8) return key;
  if (!IsHex(key, slash + 1, 16) || key[slash + 17] != '-' || !IsHex(key, slash + 18, 8)) {
    return key;
  }
  return key.substr(0, slash + 1) + ".." + key.substr(slash + 13);
}

// As the text trace writes a ballot: its number and the low 32 bits of the claimer id.
std::string Ballot(const wire::Ballot& b) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%" PRIu64 "/%08" PRIx64, b.n, b.id & 0xffffffffu);
  return buf;
}

std::string ClaimerEntity(uint64_t id) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "c%08" PRIx64, id & 0xffffffffu);
  return buf;
}

std::string Escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// A reply's name on its arrow: what a granted request gives (a promise, an acceptance), else
// the refusal, so that promises and acceptances can be counted on the chart.
std::string ReplyName(const claim::TraceEvent& e) {
  if (e.status == "ok" && e.op == wire::Op::kLockReadDelete) return "promise";
  if (e.status == "ok" && e.op == wire::Op::kCommit) return "accept";
  if (e.op == wire::Op::kLockReadDelete || e.op == wire::Op::kCommit) return e.status;
  return std::string(wire::OpName(e.op)) + " " + e.status;
}

bool IsEntity(const std::string& s) {
  if (s.size() == 9 && s[0] == 'c') return IsHex(s, 1, 8);
  return s.size() >= 2 && s.size() <= 7 && s[0] == 'u' && IsDigits(s.substr(1));
}

}  // namespace

std::string MscArrowLine(const claim::TraceEvent& e, int64_t time_us) {
  const std::string claimer = ClaimerEntity(e.ballot.id);
  const std::string unit = "u" + std::to_string(e.unit);
  // Two lines, the kind of message over the rest, to keep arrows between neighbours readable.
  std::string kind, label = ShortKey(e.key) + " " + Ballot(e.ballot), arc;
  if (!e.reply) {
    // Releases are sent without waiting for replies (dsclaim(1), TRACE).
    const char* arrow = e.op == wire::Op::kRelease ? " -> " : " => ";
    arc = claimer + arrow + unit;
    kind = wire::OpName(e.op);
  } else {
    arc = unit + " >> " + claimer;
    kind = ReplyName(e);
    // What a student needs to follow the decision: whose ballot the unit promised instead of
    // this one, and an owner already accepted (which phase 1 must adopt).
    if (e.view && e.view->promised != e.ballot) label += " promised " + Ballot(e.view->promised);
    if (e.view && e.view->has_accepted && e.op == wire::Op::kLockReadDelete) {
      label += " accepted " + Ballot(e.view->accepted);
    }
  }
  std::string attrs = "label=\"" + Escaped(kind) + "\\n" + Escaped(label) + "\"";
  if (e.reply && e.status != "ok") attrs += ", linecolour=\"red\", textcolour=\"red\"";
  char time[48];
  std::snprintf(time, sizeof time, "%" PRId64 ".%06" PRId64, time_us / 1000000, time_us % 1000000);
  return std::string(kMscLinePrefix) + time + " " + arc + " [" + attrs + "];\n";
}

Status MscChart::Add(const std::string& line, size_t line_no) {
  const std::string prefix = kMscLinePrefix;
  if (line.compare(0, prefix.size(), prefix) != 0) return Status::Ok();
  auto bad = [&](const std::string& why) {
    return Status::Invalid("line " + std::to_string(line_no) + ": " + why + ": " + line);
  };
  // SECONDS.MICROS FROM ARROW TO [...];
  std::vector<std::string> words;
  size_t at = prefix.size();
  while (words.size() < 4 && at < line.size()) {
    const size_t end = std::min(line.find(' ', at), line.size());
    words.push_back(line.substr(at, end - at));
    at = end + 1;
  }
  if (words.size() < 4 || at >= line.size()) return bad("not TIME FROM ARROW TO [...];");
  const std::string& time = words[0];
  const size_t dot = time.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 12 || time.size() != dot + 7 ||
      !IsDigits(time.substr(0, dot)) || !IsDigits(time.substr(dot + 1))) {
    return bad("the time is not SECONDS.MICROS");
  }
  if (!IsEntity(words[1]) || !IsEntity(words[3])) return bad("an entity is not cXXXXXXXX or uN");
  if (words[2] != "=>" && words[2] != "->" && words[2] != ">>") return bad("no => -> or >>");
  const std::string rest = line.substr(at);
  if (rest.size() < 3 || rest.front() != '[' || rest.compare(rest.size() - 2, 2, "];") != 0) {
    return bad("the attributes are not [...];");
  }
  const int64_t us = std::stoll(time.substr(0, dot)) * 1000000 + std::stoll(time.substr(dot + 1));
  arcs_.push_back(
      {us, words[1], words[3], words[1] + " " + words[2] + " " + words[3] + " " + rest});
  return Status::Ok();
}

Result<std::string> MscChart::Render() const {
  if (arcs_.empty()) return Status::NotFound("no msc trace lines (made by dsclaim --trace=msc)");
  std::vector<Arc> arcs = arcs_;
  std::stable_sort(arcs.begin(), arcs.end(),
                   [](const Arc& a, const Arc& b) { return a.time_us < b.time_us; });
  std::vector<std::string> claimers;  // in the order they first appear
  std::map<uint64_t, std::string> units;
  for (const auto& a : arcs) {
    for (const std::string* e : {&a.from, &a.to}) {
      if ((*e)[0] == 'u') {
        units.emplace(std::stoull(e->substr(1)), *e);
      } else if (std::find(claimers.begin(), claimers.end(), *e) == claimers.end()) {
        claimers.push_back(*e);
      }
    }
  }
  std::vector<std::string> declared;
  auto claimer = [](const std::string& c) {
    return c + " [label=\"claimer " + c.substr(1) + "\"]";
  };
  if (!claimers.empty()) declared.push_back(claimer(claimers[0]));
  for (const auto& [n, u] : units) {
    declared.push_back(u + " [label=\"unit " + std::to_string(n) + "\"]");
  }
  for (size_t i = 1; i < claimers.size(); ++i) declared.push_back(claimer(claimers[i]));

  auto counted = [](size_t n, const std::string& what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  std::string out = "# " + counted(arcs.size(), "message") + " between " +
                    counted(claimers.size(), "claimer") + " and " + counted(units.size(), "unit") +
                    " (dsclaim --msc-chart; draw it with mscgen -T png)\n";
  // mscgen shares 600 pixels among the entities (times hscale); 200 pixels each lets a label's
  // key and ballot fit between two neighbouring lifelines.
  char hscale[32];
  std::snprintf(hscale, sizeof hscale, "%.2f",
                std::max(1.0, static_cast<double>(declared.size()) / 3.0));
  out += std::string("msc {\n  hscale=\"") + hscale + "\";\n  ";
  for (size_t i = 0; i < declared.size(); ++i) out += (i ? ",\n  " : "") + declared[i];
  out += ";\n";
  for (const auto& a : arcs) out += "  " + a.text + "\n";
  out += "}\n";
  return out;
}

}  // namespace dstk::tools
