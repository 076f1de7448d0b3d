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
if [ "$(id -u)" != 0 ]; then
  echo "SKIP netns: needs root to create network namespaces and veth pairs" >&2
  exit 77
fi
# In a chroot / is not a mount point and `ip netns` cannot make its mounts (it fails with
# "mount --make-rslave / failed"); on a machine or a container it always is.
if command -v mountpoint >/dev/null && ! mountpoint -q /; then
  echo "SKIP netns: / is not a mount point (a chroot): ip netns cannot work here" >&2
  exit 77
fi
PORT_BASE=${PORT_BASE:-17300}   # lib.sh wants one; the units here listen in their namespaces
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
N=6
TAG="t$$"                       # names carry our pid: a parallel run never touches ours
UNIT_PORT_NS=7100

declare -a NS=() HOSTIF=() ADDR=()
# Everything we made goes, whatever happened: processes first (they live in the namespaces),
# then the veths (deleting one end deletes its peer) and the namespaces.
netns_cleanup() {
  set +e   # every step runs even when one fails (a unit already gone, a link never made)
  local i p
  for ((i = 0; i < N; i++)); do
    [ -n "${UNIT_PID[$i]:-}" ] && kill -TERM "${UNIT_PID[$i]}" 2>/dev/null
  done
  sleep 0.2   # a unit stops cleanly on SIGTERM; whatever is left in our namespaces is killed
  for ((i = 0; i < N; i++)); do
    if [ -n "${NS[$i]:-}" ]; then
      for p in $(ip netns pids "${NS[$i]}" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    fi
  done
  wait 2>/dev/null
  for ((i = 0; i < N; i++)); do
    [ -n "${HOSTIF[$i]:-}" ] && ip link del "${HOSTIF[$i]}" 2>/dev/null
    [ -n "${NS[$i]:-}" ] && ip netns del "${NS[$i]}" 2>/dev/null
  done
  cleanup
}
trap netns_cleanup EXIT

# A /24 of 10.213.0.0/16 that no interface of this host uses yet.
X=""
for ((try = 0; try < 50; try++)); do
  c=$(((($$ + try) % 200) + 20))
  ip -4 addr show | grep -q "inet 10\.213\.$c\." || { X=$c; break; }
done
[ -n "$X" ] || fail "no free 10.213.X.0/24 on this host"

# --- the hosts --------------------------------------------------------------------------------------
"$DSENC" keygen "$WORK/client.key" >/dev/null || fail "keygen (client)"
cp "$WORK/client.key.pub" "$WORK/allow"
: >"$WORK/nodes"
for ((i = 0; i < N; i++)); do
  NS[$i]="dstk-$TAG-u$i"
  HOSTIF[$i]="ds${TAG}h$i"
  ADDR[$i]="10.213.$X.$((4 * i + 2))"
  ip netns add "${NS[$i]}" || fail "cannot create network namespace ${NS[$i]} (ip netns add)"
  ip link add "${HOSTIF[$i]}" type veth peer name "ds${TAG}n$i" ||
    fail "cannot create a veth pair (is the veth module available?)"
  ip link set "ds${TAG}n$i" netns "${NS[$i]}"
  ip addr add "10.213.$X.$((4 * i + 1))/30" dev "${HOSTIF[$i]}"
  ip link set "${HOSTIF[$i]}" up
  ip -n "${NS[$i]}" addr add "${ADDR[$i]}/30" dev "ds${TAG}n$i"
  ip -n "${NS[$i]}" link set "ds${TAG}n$i" up
  ip -n "${NS[$i]}" link set lo up
  "$DSENC" keygen "$WORK/unit$i.key" >/dev/null || fail "keygen (unit $i)"
  echo "tcp://${ADDR[$i]}:$UNIT_PORT_NS $(cat "$WORK/unit$i.key.pub")" >>"$WORK/nodes"
done
unset DSTK_NODES
export DSTK_KEY="$WORK/client.key"
C=(--nodes "$WORK/nodes" --timeout 0.5)   # a short deadline: a cut-off unit costs 0.5 s a round

# start_ns_unit I: unit I in its namespace, on its own address, with its key.
start_ns_unit() {
  local i=$1
  : >"$WORK/unit$i.log.new"
  ip netns exec "${NS[$i]}" "$DSNODE" --dir "$WORK/unit$i" \
    --listen "tcp://${ADDR[$i]}:$UNIT_PORT_NS" --key "$WORK/unit$i.key" --allow "$WORK/allow" \
    2>>"$WORK/unit$i.log.new" &
  UNIT_PID[$i]=$!   # ip netns exec execs the command: this is dsnode's pid
  wait_listening "$i" 250
}
link() { ip link set "${HOSTIF[$1]}" "$2"; }   # link I up|down: the host side of unit I's veth

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
"$DSCLAIM" "${C[@]}" q --json >"$WORK/claims.1" 2>"$WORK/claim1.err" &
p1=$!
"$DSCLAIM" "${C[@]}" q --json >"$WORK/claims.2" 2>"$WORK/claim2.err" &
p2=$!
wait "$p1" || true
wait "$p2" || true
cat "$WORK/claims.during" "$WORK/claims.1" "$WORK/claims.2" |
  sed -n 's/.*"key":"\([^"]*\)".*/\1/p' | sort >"$WORK/claimed"
sort "$WORK/pushed" >"$WORK/pushed.sorted"
[ "$(wc -l <"$WORK/pushed.sorted")" = 5 ] || fail "expected 5 acknowledged pushes: $(cat "$WORK/pushed")"
cmp -s "$WORK/claimed" "$WORK/pushed.sorted" ||
  fail "claims differ from acknowledged pushes: claimed [$(tr '\n' ' ' <"$WORK/claimed")]," \
    "pushed [$(tr '\n' ' ' <"$WORK/pushed.sorted")]; $(cat "$WORK"/claim*.err)"
expect_rc 1 "$DSCLAIM" "${C[@]}" q
note "healed: a, b read back byte for byte; 5 acknowledged functions claimed exactly once"
note "netns run took $((SECONDS - t0)) s after start-up"
echo "PASS netns"
