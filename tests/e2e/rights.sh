#!/usr/bin/env bash
# Rights per client key (man dsnode, ALLOW-LIST): four CurveZMQ units share an allow-list with
# a full key, a read-only key and a worker key (claim on jobs, write under out/). The read-only
# key gets and stats but its put, rm, push and claim are each refused with exit 7 and logged by
# the units; the worker claims from jobs and writes out/ only; the full key does everything;
# every write, remove, push and claim decision is logged with the key that made it; a bad
# allow-list line stops dsnode at start, naming the line.
PORT_BASE=${PORT_BASE:-17700}
source "$(dirname "$0")/lib.sh"

for who in full ro worker; do "$DSENC" keygen "$WORK/$who.key" >/dev/null; done
key() { cat "$WORK/$1.key.pub"; }
short() { key "$1" | cut -c1-10; }  # how unit logs name a key
{
  echo "# the operator: a bare key has every right"
  key full
  echo "$(key ro) read"
  echo "$(key worker)  claim=jobs write=out/"
} >"$WORK/allow"

: >"$WORK/nodes"
for i in 0 1 2 3; do
  "$DSENC" keygen "$WORK/unit$i.key" >/dev/null
  start_unit "$i" --key "$WORK/unit$i.key" --allow "$WORK/allow"
  echo "tcp://127.0.0.1:$((PORT_BASE + i)) $(key unit$i)" >>"$WORK/nodes"
done
unset DSTK_NODES
grep -q "3 client keys allowed, 2 of them with limited rights" "$WORK/unit0.log" ||
  fail "start-up does not count the limited keys: $(cat "$WORK/unit0.log")"
# as WHO TOOL ARGS...: runs dsenc, dsclaim or dsrun with WHO's key on the four units.
as() {
  local who=$1 tool=$2
  DSTK_KEY="$WORK/$who.key" "$DSTK_BIN/$tool/$tool" --nodes "$WORK/nodes" --timeout 2 "${@:3}"
}
# logged TEXT: every unit's log has a line containing TEXT within 2 s (a client may return
# after a quorum's replies, before the last unit served its copy of the request).
logged() {
  local i tries
  for i in 0 1 2 3; do
    for ((tries = 0; tries < 100; tries++)); do
      grep -qF -- "$1" "$WORK/unit$i.log.new" && break
      sleep 0.02
    done
    grep -qF -- "$1" "$WORK/unit$i.log.new" || fail "unit $i did not log '$1': $(tail -5 "$WORK/unit$i.log.new")"
  done
}
# refused WHAT: the last command's error says forbidden and names WHAT (the op and the name).
refused() {
  grep -q "forbidden" "$WORK/err" || fail "error does not say forbidden: $(cat "$WORK/err")"
  grep -qF -- "$1" "$WORK/err" || fail "error does not name '$1': $(cat "$WORK/err")"
}

echo "photo bytes" >"$WORK/photo"
as full dsenc put photos/1 "$WORK/photo" || fail "full key put: $(cat "$WORK/err" 2>/dev/null)"
logged "key $(short full)..: write photos/1 rev"
for i in 1 2 3; do as full dsenc push jobs --out "out/r$i" -- echo "ran $i" >/dev/null || fail "push jobs"; done
as full dsenc push other -- echo other >/dev/null || fail "push other"
logged "key $(short full)..: push jobs/"

# The read-only key: get, stat and ls work ...
[ "$(as ro dsenc get photos/1)" = "photo bytes" ] || fail "read-only key cannot get"
as ro dsenc stat photos/1 >/dev/null || fail "read-only key cannot stat"
as ro dsenc ls photos/ | grep -q photos/1 || fail "read-only key cannot ls"
# ... and put, rm, push and claim are each refused with exit 7, the op named, and logged.
expect_rc 7 as ro dsenc put photos/2 "$WORK/photo"
refused "put photos/2"
logged "key $(short ro)..: refused put_slice photos/2: this client key has no write right on photos/2"
expect_rc 7 as ro dsenc rm photos/1
refused "rm photos/1"
logged "key $(short ro)..: refused publish photos/1: this client key has no delete right on photos/1"
expect_rc 7 as ro dsenc push jobs -- echo sneaky
refused "no push right on jobs/"
logged "key $(short ro)..: refused put_slice jobs/"
expect_rc 7 as ro dsclaim jobs --max 1
refused "claim jobs/"
logged "key $(short ro)..: refused lock_read_delete jobs/"
expect_rc 7 as ro dsclaim jobs --batch 4 --max 1  # a batched claim is refused whole
refused "claim jobs/"
expect_rc 0 as ro dsenc stat >/dev/null  # the units' own stat needs no right
[ "$(as full dsenc get photos/1)" = "photo bytes" ] || fail "the refused rm removed something"
expect_rc 1 as full dsenc get photos/2  # the refused put stored nothing visible
note "read-only key: get, stat, ls served; put, rm, push, claim refused (exit 7) and logged"

# The worker key: claims from jobs and writes under out/ ...
as worker dsclaim jobs --max 1 >"$WORK/claim1" 2>"$WORK/err" || fail "worker cannot claim from jobs: $(cat "$WORK/err")"
[ -s "$WORK/claim1" ] || fail "the worker's claim printed no record"
logged "key $(short worker)..: claim jobs/"
as worker dsenc put out/x "$WORK/photo" 2>"$WORK/err" || fail "worker cannot write out/x: $(cat "$WORK/err")"
logged "key $(short worker)..: write out/x rev"
# ... and runs a function of jobs end to end: its output lands in out/.
as worker dsclaim jobs --max 1 2>"$WORK/err" | as worker dsrun >/dev/null 2>"$WORK/run.err" ||
  fail "worker pipeline: $(cat "$WORK/err" "$WORK/run.err")"
[ "$(as full dsenc ls out/ | grep -c '^out/r')" = 1 ] || fail "the worker's run stored no output: $(as full dsenc ls out/)"
as worker dsclaim jobs --batch 4 --max 1 >/dev/null 2>"$WORK/err" ||
  fail "worker cannot claim a batch from jobs: $(cat "$WORK/err")"
# Lease mode: the worker's dsrun renews and finishes its lease (claim ops, on its right).
as full dsenc push jobs --out out/lease -- echo leased >/dev/null || fail "push for the lease run"
as worker dsclaim jobs --mode lease --max 1 2>"$WORK/err" |
  as worker dsrun >/dev/null 2>"$WORK/run.err" || fail "worker lease run: $(cat "$WORK/err" "$WORK/run.err")"
[ "$(as full dsenc get out/lease)" = leased ] || fail "the worker's lease run stored no output"
logged "key $(short worker)..: claim jobs/"
for i in 0 1 2 3; do
  grep -F "key $(short worker)..: claim jobs/" "$WORK/unit$i.log.new" | grep -q " finish ballot " && break
  [ $i -lt 3 ] || fail "no unit logged the worker's finish"
done
# Everything else is refused: another prefix, another queue, pushing, reading, removing.
expect_rc 7 as worker dsenc put other/x "$WORK/photo"
refused "put other/x"
refused "no right on other/x"  # its stat round is refused: no right at all there
expect_rc 7 as worker dsclaim other --max 1
refused "other/"
expect_rc 7 as worker dsenc push jobs -- echo sneaky
expect_rc 7 as worker dsenc get photos/1
refused "get photos/1"
expect_rc 7 as worker dsenc get out/x  # it may write out/x and stat it, but not read it
refused "no read right on out/x"
expect_rc 7 as worker dsenc rm out/x
logged "key $(short worker)..: refused publish out/x"
note "worker key: claims jobs and writes out/; other/x, queue other, push, get, rm refused"

# The full key still does everything.
as full dsenc put other/x "$WORK/photo" || fail "full key put other/x"
as full dsclaim other --max 1 >/dev/null || fail "full key claim from other"
as full dsenc rm photos/1 || fail "full key rm"
logged "key $(short full)..: delete photos/1 rev"
expect_rc 1 as full dsenc get photos/1

# Bad lines stop a unit at start, naming the file and line.
bad() {
  printf '%s\n' "$(key full)" "$1" >"$WORK/bad"
  expect_rc 2 "$DSNODE" --dir "$WORK/badunit" --listen "tcp://127.0.0.1:$((PORT_BASE + 9))" \
    --key "$WORK/unit0.key" --allow "$WORK/bad"
  grep -qF "$WORK/bad:2: $2" "$WORK/err" || fail "bad line '$1' not named: $(cat "$WORK/err")"
}
bad "$(key ro) reed" "unknown right 'reed'"
bad "$(key ro) write=" "'write=' has an empty scope"
bad "$(key full) read" "the key is listed again (first on line 1)"
bad "$(key ro) read read" "read is granted twice"
bad "$(key ro) read,claim=jobs" "'read,claim=jobs' mixes name rights"
bad "not-a-key read" "'not-a-key' is not a Z85 public key"
note "bad allow-list lines refused at start with their line number"
echo "PASS rights"
