#!/usr/bin/env bash
# Several hosts: six units, each in its own network namespace behind its own veth pair, with
# CurveZMQ keys (they bind non-loopback addresses); the client in the root namespace. With
# n=6 and the defaults k=4, w=5, q=max(4, 6/2+1)=4, units go away the two ways hosts do:
# killed (kill -9) and cut off (their link set down). Reads go on with n-k=2 units gone, puts
# and pushes with n-w=1, claims with n-q=2; one more gone and each fails with exit 3 naming
# units and the threshold, losing nothing. After healing (restart, link up) every
# acknowledged object reads back byte for byte and every acknowledged push is claimed exactly
# once.
#
# Needs root (ip netns, veth). Not root: exits 77, which ctest reports as skipped
# (SKIP_RETURN_CODE), and so does a chroot (no mount point at /, where ip netns cannot work).
# Root on a real machine or container without working `ip netns`/veth: fails, saying so.
#
# Addresses: 10.213.X.0/24 with X chosen free on this host, cut into one /30 per unit (host
# side .4i+1, unit side .4i+2). The namespaces have no default route and forwarding is not
# touched, so nothing here can reach or be reached from beyond this host.
source "$(dirname "$0")/netns_lib.sh"
netns_require_root netns
PORT_BASE=${PORT_BASE:-17300}   # lib.sh wants one; the units here listen in their namespaces
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
N=6
UNIT_PORT_NS=7100

declare -a ADDR=()
netns_setup

# --- the hosts --------------------------------------------------------------------------------------
: >"$WORK/nodes"
for ((i = 0; i < N; i++)); do
  netns_make_host "$i" "u$i"
  ADDR[$i]=${HADDR[$i]}
  "$DSENC" keygen "$WORK/unit$i.key" >/dev/null || fail "keygen (unit $i)"
  echo "tcp://${ADDR[$i]}:$UNIT_PORT_NS $(cat "$WORK/unit$i.key.pub")" >>"$WORK/nodes"
done
unset DSTK_NODES
C=(--nodes "$WORK/nodes" --timeout 0.5)   # a short deadline: a cut-off unit costs 0.5 s a round

# start_ns_unit I: unit I in its own namespace (host I), on its own address. link I cuts it.
start_ns_unit() { netns_start_unit "$1" "$1" "tcp://${ADDR[$1]}:$UNIT_PORT_NS"; }

for ((i = 0; i < N; i++)); do start_ns_unit "$i"; done
t0=$SECONDS

# The units are reachable over the veths only: this unit's address is not on loopback.
ip -4 addr show lo | grep -q "10\.213\." && fail "a unit address ended up on loopback"
random_file "$WORK/a" $((2 * 1024 * 1024 + 5))
"$DSENC" "${C[@]}" put a "$WORK/a" || fail "put with all six units up: $(cat "$WORK"/unit0.log)"
"$DSENC" "${C[@]}" get a | cmp - "$WORK/a" || fail "get with all six units up"
ACKED_OBJECTS=(a)
: >"$WORK/pushed"
# push_fn TAG: pushes a function that echoes TAG; records its key when acknowledged.
push_fn() {
  local key
  key=$("$DSENC" "${C[@]}" push q -- echo "$1" 2>"$WORK/err") || return $?
  echo "$key" >>"$WORK/pushed"
}
for f in f1 f2 f3 f4; do push_fn "$f" || fail "push with all units up: $(cat "$WORK/err")"; done
note "six units in namespaces dstk-$TAG-u0..5 on 10.213.$X.0/24 with CurveZMQ; a, 4 functions stored"

# --- one gone (unit 1 killed): everything works ------------------------------------------------------
kill_unit 1
random_file "$WORK/b" $((1024 * 1024 + 3))
"$DSENC" "${C[@]}" put b "$WORK/b" || fail "put with n-w=1 unit killed: $(cat "$WORK/err")"
ACKED_OBJECTS+=(b)
push_fn f5 || fail "push with n-w=1 unit killed: $(cat "$WORK/err")"
"$DSENC" "${C[@]}" get a | cmp - "$WORK/a" || fail "get with one unit killed"
"$DSCLAIM" "${C[@]}" q --max 1 --json >"$WORK/claims.during" || fail "claim with one unit killed"
note "unit 1 killed: put, push, get and claim all work"

# --- two gone (unit 2 cut off too): reads and claims go on, puts and pushes fail ---------------------
link 2 down
"$DSENC" "${C[@]}" get a | cmp - "$WORK/a" || fail "get with n-k=2 units gone (1 killed, 1 cut off)"
"$DSENC" "${C[@]}" get b | cmp - "$WORK/b" || fail "get of b with 2 units gone"
"$DSCLAIM" "${C[@]}" q --max 1 --json >>"$WORK/claims.during" ||
  fail "claim with n-q=2 units gone: $("$DSCLAIM" "${C[@]}" --list q 2>&1)"
random_file "$WORK/c" 300000
expect_rc 3 "$DSENC" "${C[@]}" put c "$WORK/c"
grep -q "w=5" "$WORK/err" && grep -q "${ADDR[2]}" "$WORK/err" ||
  fail "put past the limit should name w=5 and the cut-off unit ${ADDR[2]}: $(cat "$WORK/err")"
note "put with 2 gone: $(head -c 300 "$WORK/err")"
random_file "$WORK/b2" 200000
expect_rc 3 "$DSENC" "${C[@]}" put b "$WORK/b2"   # an overwrite that fails keeps the old b
rc=0
push_fn f6 || rc=$?
[ "$rc" = 3 ] || fail "push with 2 units gone exited $rc, expected 3: $(cat "$WORK/err")"
grep -q "w=5" "$WORK/err" || fail "push past the limit should name w=5: $(cat "$WORK/err")"
"$DSENC" "${C[@]}" get b | cmp - "$WORK/b" || fail "a failed overwrite harmed b"
note "two gone: reads and claims work; put and push fail with exit 3 naming w and the units"

# --- three gone (unit 3 cut off too): reads and claims fail too --------------------------------------
link 3 down
"$DSENC" "${C[@]}" stat >"$WORK/stat" 2>&1 && fail "stat exits 0 with 3 of 6 units gone"
grep -q "network: 3 of 6 units up" "$WORK/stat" || fail "stat does not see 3 gone: $(cat "$WORK/stat")"
expect_rc 3 "$DSENC" "${C[@]}" get a
grep -q "need k=4" "$WORK/err" && grep -q "${ADDR[3]}" "$WORK/err" ||
  fail "get past the limit should name k=4 and the cut-off unit ${ADDR[3]}: $(cat "$WORK/err")"
note "get with 3 gone: $(head -c 300 "$WORK/err")"
expect_rc 3 "$DSCLAIM" "${C[@]}" q --max 1
grep -q "q=4" "$WORK/err" || fail "claim past the limit should name q=4: $(cat "$WORK/err")"
note "claim with 3 gone: $(head -c 300 "$WORK/err")"

# --- healing: restart the killed unit, links up ------------------------------------------------------
start_ns_unit 1
link 2 up
link 3 up
deadline=$((SECONDS + 20))
until "$DSENC" "${C[@]}" stat >"$WORK/stat" 2>&1; grep -q "network: 6 of 6 units up" "$WORK/stat"; do
  [ $SECONDS -lt $deadline ] || fail "units did not all answer after healing: $(cat "$WORK/stat")"
  sleep 0.3
done
for o in "${ACKED_OBJECTS[@]}"; do
  "$DSENC" "${C[@]}" get "$o" | cmp - "$WORK/$o" || fail "acknowledged object $o not readable after healing"
done
expect_rc 1 "$DSENC" "${C[@]}" get c   # the failed put was never published anywhere
"$DSENC" "${C[@]}" put c "$WORK/c" || fail "put after healing: $(cat "$WORK/err")"
"$DSENC" "${C[@]}" get c | cmp - "$WORK/c" || fail "c after healing"

# Every acknowledged push is claimed exactly once: two claimers race for the rest of the queue.
claimed_exactly_once 5 "${C[@]}"
note "healed: a, b read back byte for byte; 5 acknowledged functions claimed exactly once"
note "netns run took $((SECONDS - t0)) s after start-up"
echo "PASS netns"
