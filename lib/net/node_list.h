// The node list: which units make up a network, and what a client needs to know about each.
//
// One unit per line (a file) or per comma-separated item (DSTK_NODES):
//
//   ENDPOINT [PUBLIC_KEY] [id=UNIT_ID] [domain=NAME] [leaving]
//
// - ENDPOINT: where the unit listens (net/endpoint.h), written back in canonical form.
// - PUBLIC_KEY: the unit's CurveZMQ public key (Z85); the connection is then encrypted.
// - id=: the unit's identity (16 hex digits, store/unit_id.h, reported by `stat`). Placement
//   ranks units by id, so a unit that moves to another address keeps its objects. A line
//   without one has its id asked from the unit when placement needs it.
// - domain=: the failure domain (a host, a rack): placement spreads each object's slices over
//   domains. A line without one is a domain of its own.
// - leaving: the unit is being drained: nothing new is placed on it and `dsenc rebalance` moves
//   what it holds to the others; it is still read from.
//
// The order of lines matters only for objects whose width is the whole list (pillar i on line
// i, as before placement existed) and for messages, which name units by line index.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace dstk::net {

struct NodeEntry {
  std::string endpoint;    // canonical, e.g. tcp://127.0.0.1:7100
  std::string server_key;  // Z85, or empty
  std::string id;          // 16 hex digits, or empty (not given)
  std::string domain;      // or empty (a domain of its own)
  bool leaving = false;

  // The entry as a node list line, in canonical form.
  std::string ToLine() const;
};

// Whether `id` has the form of a unit id (16 lowercase hex digits).
bool IsUnitId(const std::string& id);

// Parses one entry (a line or an item, already trimmed). kInvalidArgument says what is wrong.
Result<NodeEntry> ParseNodeEntry(const std::string& item);

// Parses a whole list; `separator` is '\n' for a file (blank lines and '#' comment lines are
// skipped) and ',' for DSTK_NODES. A list that names one unit twice (the same endpoint, two
// host names that resolve to one address, one public key or one id) is refused.
// kInvalidArgument names the line or item.
Result<std::vector<NodeEntry>> ParseNodeEntries(const std::string& text, char separator);

// The same, as canonical lines (what net::Cluster takes).
Result<std::vector<std::string>> ParseNodeList(const std::string& text, char separator);

}  // namespace dstk::net
