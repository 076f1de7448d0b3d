#!/usr/bin/env bash
# The bash completion (contrib/bash-completion/dstk) against the tools' real --help: every
# option a tool (or a dsenc subcommand) lists is offered, every option offered exists, every
# option listed as taking a value is known to take one (or the words after it are miscounted),
# and the values it does complete (files, directories, enums, subcommands) come out right.
# Needs DSTK_BIN (the build's tools directory); DSTK_COMPLETION overrides the script's path.
set -euo pipefail
: "${DSTK_BIN:?DSTK_BIN must point at the tools directory of a build}"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
COMPLETION=${DSTK_COMPLETION:-$SRC/contrib/bash-completion/dstk}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dstk-completion.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# shellcheck source=../../contrib/bash-completion/dstk
source "$COMPLETION"
for tool in dsenc dsnode dsclaim dsrun; do
  [ "$(complete -p "$tool" 2>/dev/null)" = "complete -F _$tool $tool" ] \
    || fail "$COMPLETION does not register _$tool for $tool"
done

# offered WORD...: what completing the command line WORD... offers (the last word is the one
# under the cursor), one a line, as bash would see it after pressing TAB.
offered() {
  local COMP_WORDS=("$@") COMP_CWORD=$(($# - 1)) COMP_LINE="$*" COMP_POINT
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "_$1" 2>"$WORK/stderr" || true
  [ ! -s "$WORK/stderr" ] || fail "completing '$*' wrote to stderr: $(cat "$WORK/stderr")"
  [ ${#COMPREPLY[@]} = 0 ] || printf '%s\n' "${COMPREPLY[@]}"
}

# help_options CMD...: the options in the first column of CMD --help, one a line.
help_options() {
  "$@" --help | sed -n 's/^ \{1,\}\(-[^ ]*\).*/\1/p' | tr ',' '\n' | { grep -E '^-' || true; } | sort -u
}
# help_value_options CMD...: the options of CMD --help followed by a value type (TEXT, UINT...).
help_value_options() {
  "$@" --help | sed -n 's/^ \{1,\}\(-[^ ]*\) [A-Z][A-Z0-9]*\([:= ].*\)\{0,1\}$/\1/p' | tr ',' '\n' \
    | { grep -E '^-' || true; } | sort -u
}

# check_options HELP_CMD -- COMPLETION_WORDS...: options of HELP_CMD's --help vs those offered.
check_options() {
  local help_cmd=() words o
  while [ "$1" != -- ]; do help_cmd+=("$1"); shift; done
  shift
  words=("$@")
  help_options "${help_cmd[@]}" >"$WORK/help"
  [ -s "$WORK/help" ] || fail "no options parsed from '${help_cmd[*]} --help'"
  offered "${words[@]}" - | sort -u >"$WORK/offered"
  while read -r o; do
    grep -qxF -- "$o" "$WORK/offered" || fail "'${words[*]} -<TAB>' does not offer $o (in ${help_cmd[*]##*/} --help)"
  done <"$WORK/help"
  # Offered but not in this --help: only dsenc's global options are allowed after a subcommand.
  while read -r o; do
    grep -qxF -- "$o" "$WORK/help" && continue
    [ ${#words[@]} -gt 1 ] && [ "${words[0]}" = dsenc ] && grep -qxF -- "$o" "$WORK/dsenc-global" \
      && continue
    fail "'${words[*]} -<TAB>' offers $o, which ${help_cmd[*]##*/} --help does not list"
  done <"$WORK/offered"
  # Options that take a value must be known as such (the subcommand scan skips their value).
  help_value_options "${help_cmd[@]}" >"$WORK/valued"
  while read -r o; do
    _dstk_takes_value "$o" || fail "$o takes a value (${help_cmd[*]##*/} --help) but _dstk_takes_value says no"
  done <"$WORK/valued"
  checked=$((checked + $(wc -l <"$WORK/help")))
}

checked=0
help_options "$DSTK_BIN/dsenc/dsenc" >"$WORK/dsenc-global"
check_options "$DSTK_BIN/dsenc/dsenc" -- dsenc
check_options "$DSTK_BIN/dsnode/dsnode" -- dsnode
check_options "$DSTK_BIN/dsclaim/dsclaim" -- dsclaim
check_options "$DSTK_BIN/dsrun/dsrun" -- dsrun

# dsenc's subcommands: from the SUBCOMMANDS section of its --help.
"$DSTK_BIN/dsenc/dsenc" --help | sed -n '/^[Ss][Uu][Bb][Cc][Oo][Mm][Mm][Aa][Nn][Dd][Ss]:/,/^$/s/^ \{1,\}\([a-z][a-z-]*\) .*/\1/p' \
  >"$WORK/subs"
[ "$(wc -l <"$WORK/subs")" -ge 11 ] || fail "expected at least 11 dsenc subcommands: $(cat "$WORK/subs")"
offered dsenc "" >"$WORK/offered-subs"
while read -r sub; do
  grep -qxF "$sub" "$WORK/offered-subs" || fail "'dsenc <TAB>' does not offer the subcommand $sub"
  check_options "$DSTK_BIN/dsenc/dsenc" "$sub" -- dsenc "$sub"
done <"$WORK/subs"
while read -r sub; do
  grep -qxF "$sub" "$WORK/subs" || fail "'dsenc <TAB>' offers $sub, not a subcommand in dsenc --help"
done <"$WORK/offered-subs"

# Values.
mkdir "$WORK/files" "$WORK/files/somedir"
: >"$WORK/files/nodes.txt"
: >"$WORK/files/some file"
cd "$WORK/files"
# expect WANT WORD...: completing WORD... offers exactly WANT (lines joined by spaces).
expect() {
  local want=$1 got
  shift
  got=$(offered "$@" | sort | tr '\n' ' ' | sed 's/ $//')
  [ "$got" = "$want" ] || fail "'$*<TAB>' offered '$got', expected '$want'"
}
expect "debug" dsnode --log-level d
expect "debug error info warn" dsnode --log-level ""
expect "debug" dsnode --log-level = d       # --log-level=d, as bash splits it
expect "consume lease" dsclaim --mode ""
expect "msc text" dsclaim --trace =          # --trace=FORMAT, as bash splits it
expect "msc" dsclaim --trace = m
expect "" dsclaim --trace ""                 # plain --trace takes no value: QUEUE comes next
expect "somedir" dsnode --dir s             # directories only
expect "some file somedir" dsnode --config s
expect "nodes.txt" dsenc --nodes n
expect "nodes.txt" dsrun --key n
expect "somedir" dsrun --scratch so
expect "some file somedir" dsenc put obj/name s  # FILE after NAME
expect "" dsenc put s                            # NAME: an object, not a file
expect "some file somedir" dsenc split -k 2 -n 3 s
expect "some file somedir" dsenc keygen s
expect "push put" dsenc --nodes nodes.txt -k 2 pu  # option values are not taken for the subcommand
expect "" dsenc -k ""                         # a number
expect "place push put" dsenc -k 2 p          # ...skipped, then the subcommand
expect "nodes.txt" dsenc push q --from n
[[ $'\n'"$(offered dsenc push q --in a -- ech)"$'\n' == *$'\necho\n'* ]] || fail "'dsenc push q -- ech<TAB>' does not offer echo"
expect "some file somedir" dsenc push q -- sh s  # the command's arguments: files
expect "--follow" dsclaim --fo
expect "" dsclaim q                           # QUEUE: a name on the network

echo "completion: $checked options checked against --help, $failures failures"
[ "$failures" = 0 ]
