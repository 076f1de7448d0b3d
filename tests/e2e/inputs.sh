#!/usr/bin/env bash
# Bad input, by class, against every tool that takes it: each is refused with exit 2 and a
# message saying what is wrong, never an abort, and nothing stored is lost.
#   - node lists ($DSTK_NODES, --nodes FILE): malformed endpoints, one unit listed twice;
#   - dsnode --listen: malformed endpoints, ports outside 1..65535, a missing scheme;
#   - names: bytes that are not UTF-8, control characters (every tool, every name argument);
#     JSON output never aborts;
#   - functions: an empty command.
PORT_BASE=${PORT_BASE:-17380}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
start_units 4
GOOD_NODES=$DSTK_NODES
P0=$((PORT_BASE + 0))
P1=$((PORT_BASE + 1))

echo "precious" | "$DSENC" put keep/me

# refused CMD...: CMD must exit 2 with a one-line reason and no abort.
refused() {
  local rc=0
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = 2 ] || fail "'$*' exited $rc, expected 2: $(cat "$WORK/err")"
  grep -q "terminate called\|Aborted\|what()" "$WORK/err" && fail "'$*' aborted: $(cat "$WORK/err")"
  [ -s "$WORK/err" ] || fail "'$*' said nothing on stderr"
  return 0
}

# --- node lists: every tool, from $DSTK_NODES and from --nodes FILE ----------------------------
bad_lists=(
  "127.0.0.1"                      "127.0.0.1:abc"                 "bogus://x"
  "127.0.0.1:84146"                "127.0.0.1:0"                   ":$P0"
  "::1:$P0"                        "inproc://x"                    "ipc://"
  "tcp://127.0.0.1:$P0 not-a-key"  "127.0.0.1:$P0,127.0.0.1:$P0"  "127.0.0.1:$P0,tcp://127.0.0.1:$P0"
  "127.0.0.1:$P0,localhost:$P0"    "127.0.0.1:$P0,127.0.0.1:0$P0" "127.0.0.1:$P0,127.0.0.1:$P1,127.0.0.1:$P0"
)
for list in "${bad_lists[@]}"; do
  for tool in "$DSENC stat" "$DSENC ls" "$DSENC get keep/me" "$DSCLAIM q" "$DSCLAIM --list q" "$DSRUN"; do
    # shellcheck disable=SC2086
    DSTK_NODES=$list refused $tool </dev/null
  done
  tr ',' '\n' <<<"$list" >"$WORK/bad.nodes"
  refused "$DSENC" --nodes "$WORK/bad.nodes" stat
  refused "$DSCLAIM" q --nodes "$WORK/bad.nodes"
  echo x | DSTK_NODES=$list refused "$DSENC" put keep/me
done
DSTK_NODES="127.0.0.1:$P0,127.0.0.1:$P0" refused "$DSENC" stat
grep -q "item 2 .*same unit as item 1" "$WORK/err" || fail "duplicate not explained: $(cat "$WORK/err")"
printf '127.0.0.1:%s\n# a comment\n127.0.0.1:x\n' "$P0" >"$WORK/bad.nodes"
refused "$DSENC" --nodes "$WORK/bad.nodes" stat
grep -q "line 3.*port 'x' is not a number" "$WORK/err" || fail "bad line not named: $(cat "$WORK/err")"
[ "$("$DSENC" get keep/me)" = precious ] || fail "the stored object changed"
note "node lists: ${#bad_lists[@]} bad lists refused with exit 2 by dsenc, dsclaim and dsrun"

# --- dsnode --listen --------------------------------------------------------------------------
for ep in "tcp://127.0.0.1:84146" "tcp://127.0.0.1:65536" "tcp://127.0.0.1:0" "tcp://127.0.0.1:abc" \
  "tcp://127.0.0.1" "bogus://x" "127.0.0.1" "tcp://:7100" "tcp://[::1:7100" "inproc://x"; do
  refused "$DSNODE" --dir "$WORK/lone" --listen "$ep"
  grep -q "use a loopback address" "$WORK/err" && fail "--listen $ep: misleading reason: $(cat "$WORK/err")"
done
refused "$DSNODE" --dir "$WORK/lone" --listen tcp://127.0.0.1:84146
grep -q "outside 1..65535" "$WORK/err" || fail "wrapped port not explained: $(cat "$WORK/err")"
# A missing tcp:// is the default scheme, as in node lists.
"$DSNODE" --dir "$WORK/unit9" --listen "127.0.0.1:$((PORT_BASE + 9))" \
  --ready-file "$WORK/unit9.ready" 2>"$WORK/unit9.log.new" &
UNIT_PID[9]=$!
wait_ready 9 200
[ "$(cat "$WORK/unit9.ready")" = "tcp://127.0.0.1:$((PORT_BASE + 9))" ] \
  || fail "--ready-file does not hold the bound endpoint: $(cat "$WORK/unit9.ready")"
grep -q "listening on tcp://127.0.0.1:$((PORT_BASE + 9))" "$WORK/unit9.log" || fail "no-scheme listen: $(cat "$WORK/unit9.log")"
kill_unit 9
note "dsnode --listen: ports outside 1..65535, bad schemes and hosts refused with exit 2; HOST:PORT means tcp://"

# --- names ------------------------------------------------------------------------------------
export DSTK_NODES=$GOOD_NODES
bad_names=($'c/bad\xff' $'\xc3' $'\xc0\xaf' $'\xed\xa0\x80' $'a\xc2\x85b' $'a\x01b' $'a\tb' "a//b" "../x")
for name in "${bad_names[@]}"; do
  echo data | refused "$DSENC" put "$name"
  refused "$DSENC" get "$name"
  refused "$DSENC" stat "$name"
  refused "$DSENC" rm "$name"
  refused "$DSENC" ls "$name"
  refused "$DSENC" repair "$name"
  refused "$DSENC" push "$name" -- true
  refused "$DSENC" push q --in "$name" -- true
  refused "$DSENC" push q --out "$name" -- true
  refused "$DSCLAIM" "$name"
done
echo data | refused "$DSENC" put $'c/bad\xff'
grep -q "UTF-8" "$WORK/err" || fail "not-UTF-8 name not explained: $(cat "$WORK/err")"
printf '{"argv":["true"],"in":["\\u00ff"],"out":"o\\u0085"}\n' | refused "$DSENC" push q --from -
# JSON output of every listing with UTF-8 names beyond ASCII.
echo x | "$DSENC" put "c/caf$(printf '\xc3\xa9')"
"$DSENC" --json ls c/ >"$WORK/ls.json" || fail "--json ls failed"
grep -q "\"name\":\"c/caf$(printf '\xc3\xa9')\"" "$WORK/ls.json" || fail "--json ls: $(cat "$WORK/ls.json")"
"$DSENC" --json stat "c/caf$(printf '\xc3\xa9')" >/dev/null || fail "--json stat failed"
echo y | "$DSENC" --json put "c/caf$(printf '\xc3\xa9')" >/dev/null || fail "--json put failed"
[ -z "$("$DSENC" ls c/bad 2>/dev/null)" ] || fail "a refused name was stored"
note "names: ${#bad_names[@]} names refused with exit 2 by put, get, stat, rm, ls, repair, push and dsclaim"

# --- functions --------------------------------------------------------------------------------
refused "$DSENC" push fq -- ''
grep -q "command's name is empty" "$WORK/err" || fail "empty command not explained: $(cat "$WORK/err")"
refused "$DSENC" push fq -- '' arg
printf '{"argv":[""]}\n' | refused "$DSENC" push fq --from -
printf '{"argv":[]}\n' | refused "$DSENC" push fq --from -
printf '{"argv":["a\\u0000b"]}\n' | refused "$DSENC" push fq --from -
expect_rc 1 "$DSCLAIM" fq
note "functions: an empty command or argument list, a NUL in an argument: refused at push"

# --- a missing input fails the run like a failing command; a dead letter counts its runs -------
for mode in consume lease; do
  q="m$mode"
  "$DSENC" push "$q" --in no/such --attempts 2 -- cat >/dev/null
  : >"$WORK/run.$q"
  # A consume-mode failure re-queues (a new key, a second pipeline takes it); a lease-mode one
  # releases, and the same walker takes it again.
  while [ -n "$("$DSCLAIM" --list "$q")" ]; do
    rc=0
    "$DSCLAIM" "$q" --mode "$mode" | "$DSRUN" >>"$WORK/run.$q" 2>"$WORK/err" || rc=$?
    [ "$rc" = 5 ] || fail "$mode: a run with a missing input exited $rc: $(cat "$WORK/err")"
  done
  [ "$(grep -c '"detail":"could not run: feeding the command.s stdin: input no/such: no object no/such"' \
      "$WORK/run.$q")" = 2 ] || fail "$mode: not two result lines: $(cat "$WORK/run.$q")"
  grep -q '"outcome":"dead-lettered"' "$WORK/run.$q" || fail "$mode: not dead-lettered: $(cat "$WORK/run.$q")"
  "$DSENC" get "$("$DSCLAIM" --list "$q.failed")" | "$DSENC" inspect >"$WORK/dead.$q"
  grep -q '"attempts":2,"attempt":2,' "$WORK/dead.$q" || fail "$mode: dead letter's attempt: $(cat "$WORK/dead.$q")"
  grep -q '(after 2 runs)"' "$WORK/dead.$q" || fail "$mode: dead letter's reason: $(cat "$WORK/dead.$q")"
done
note "a missing input: a result line, exit 5, re-run then dead-lettered with attempt 2 after 2 runs (both modes)"

# --- one unit under two endpoints no list check can tell apart: its id gives it away -------------
"$DSNODE" --dir "$WORK/unit8" --listen "ipc://$WORK/u8.sock" --ready-file "$WORK/unit8.ready" \
  2>"$WORK/unit8.log.new" &
UNIT_PID[8]=$!
wait_ready 8 200
ln -s "$WORK/u8.sock" "$WORK/u8.link"
twice="$GOOD_NODES,ipc://$WORK/u8.sock,ipc://$WORK/u8.link"
echo data | DSTK_NODES=$twice refused "$DSENC" put twice/obj
grep -q "unit 4 (ipc://[^)]*u8.sock) and unit 5 (ipc://[^)]*u8.link) are one unit (id [0-9a-f]\{16\})" "$WORK/err" ||
  fail "one unit twice: $(cat "$WORK/err")"
DSTK_NODES=$twice refused "$DSENC" stat
grep -q "one unit listed twice" "$WORK/out" || fail "stat's verdict: $(cat "$WORK/out")"
DSTK_NODES=$twice refused "$DSENC" repair keep/me
[ -z "$(find "$WORK/unit8/objects" -type f)" ] || fail "the doubly listed unit was written to"
id8=$(cat "$WORK/unit8/unit.id")
DSTK_NODES="ipc://$WORK/u8.sock" "$DSENC" --json stat | grep -q "\"id\":\"$id8\"" || fail "stat does not report the unit id"
kill_unit 8
note "one unit behind two ipc endpoints: put, stat and repair refuse with exit 2, naming both entries and the id"
