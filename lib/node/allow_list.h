// The allow-list a unit with CurveZMQ keys reads at start (dsnode --allow FILE): which client
// keys may connect, and with what rights (node/rights.h).
//
// One client a line, fields separated by blanks:
//
//   KEY                        every right on everything (what a bare key always meant)
//   KEY all                    the same, spelled out
//   KEY GRANT [GRANT...]       only these rights
//
// KEY is a Z85 public key (40 characters, dsenc keygen). A GRANT is a comma-separated list of
// rights, alone (everywhere) or with `=SCOPE`: a name prefix for read, write and delete, a
// queue name for push and claim. admin takes no scope. Examples:
//
//   rq+Qn...  read                           get, stat and ls everything
//   Xk2f...   read,write=photos/ delete=tmp/ read and write under photos/, remove under tmp/
//   Wk3b...   claim=jobs write=out/          a worker: claims from jobs, writes under out/
//
// A grant's scope applies to every right of its list, so the rights of one list must share a
// scope kind (not read,claim=jobs). A line starting with '#' is a comment ('#' is a Z85 digit,
// so a comment cannot follow a key on its line). Anything else is refused with its line
// number: not a key, a key listed twice, an unknown or repeated right, an empty scope, a scope
// that is no valid prefix or queue name, a scope on admin or all, the same grant twice.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "node/rights.h"
#include "util/status.h"

namespace dstk::node {

// Client public key (Z85) -> its rights.
using AllowList = std::map<std::string, Rights>;

// Parses the text of an allow-list; errors name `source` and the line ("FILE:3: ...").
Result<AllowList> ParseAllowList(std::string_view text, const std::string& source);
// Reads and parses the file at `path`.
Result<AllowList> ReadAllowList(const std::string& path);

}  // namespace dstk::node
