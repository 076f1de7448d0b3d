#!/usr/bin/env bash
# Units that share hosts: three hosts (network namespaces, one veth pair each) with four units
# each, twelve units in all, with CurveZMQ keys; the node list names each unit's host as its
# failure domain (domain=hostH) and carries the ids `dsenc nodes` fills in. Objects and a queue
# have width n=6 and k=4 (w defaults to k+1=5, the claim quorum q=max(4, 6/2+1)=4), so
# placement puts at most ceil(6/3)=2 slices of each on one host: exactly 2 on every host.
# Checks that
#   - every object and the queue are placed 2 slices per host, on the units holding them, and
#     that the twelve units share the objects between them (not all on the same six);
#   - with one host cut off (its link set down: 4 units, 2 slices of everything, gone) every
#     object reads byte for byte and claims go on (4 of the queue's 6 units, q=4); puts and
#     pushes at the default w=5 fail with exit 3 naming w=5 and a unit of the cut host, an
#     overwrite that fails keeps the old revision, and with -w 4 puts, overwrites and pushes
#     succeed on the 4 units left;
#   - with a second host cut off too (4 of 6 slices gone) get fails with exit 3 naming k=4 and
#     a claim with exit 3 naming q=4;
#   - after healing (links up) every acknowledged object reads back byte for byte (the -w 4
#     overwrite as its new content, although the healed host still holds the old revision),
#     the failed put left no object, and every acknowledged push is claimed exactly once.
#
# Needs root (ip netns, veth). Not root: exits 77, which ctest reports as skipped
# (SKIP_RETURN_CODE), and so does a chroot (no mount point at /, where ip netns cannot work).
# Root on a real machine or container without working `ip netns`/veth: fails, saying so.
#
# Addresses: 10.213.X.0/24 with X chosen free on this host, cut into one /30 per host (host
# side .4h+1, namespace side .4h+2, where the host's four units listen on ports 7100-7103).
# The namespaces have no default route and forwarding is not touched, so nothing here can
# reach or be reached from beyond this host.
source "$(dirname "$0")/netns_lib.sh"
netns_require_root netns_hosts
PORT_BASE=${PORT_BASE:-17600}   # lib.sh wants one; the units here listen in their namespaces
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
HOSTS=3
PER_HOST=4
UNITS=$((HOSTS * PER_HOST))
UNIT_PORT_NS=7100               # units of host h listen on 7100..7103 of its address

netns_setup

# --- the hosts and their units ----------------------------------------------------------------------
: >"$WORK/plain"
for ((h = 0; h < HOSTS; h++)); do
  netns_make_host "$h" "h$h"
done
host_of() { echo $(($1 / PER_HOST)); }                                   # unit I -> host
endpoint_of() { echo "tcp://${HADDR[$(host_of "$1")]}:$((UNIT_PORT_NS + $1 % PER_HOST))"; }
for ((i = 0; i < UNITS; i++)); do
  "$DSENC" keygen "$WORK/unit$i.key" >/dev/null || fail "keygen (unit $i)"
  # Fixed unit ids (what dsnode would draw at random the first time): the same placement on
  # every run, so a failure can be replayed.
  mkdir -p "$WORK/unit$i"
  printf '%016x\n' $((0x4057ed0000000 + i * 104729)) >"$WORK/unit$i/unit.id"
  echo "$(endpoint_of "$i") $(cat "$WORK/unit$i.key.pub") domain=host$(host_of "$i")" >>"$WORK/plain"
done
unset DSTK_NODES

# start_ns_unit I: unit I in its host's namespace, on the host's address. link H cuts host H.
start_ns_unit() { netns_start_unit "$1" "$(host_of "$1")" "$(endpoint_of "$1")"; }

for ((i = 0; i < UNITS; i++)); do start_ns_unit "$i"; done
t0=$SECONDS
ip -4 addr show lo | grep -q "10\.213\." && fail "a unit address ended up on loopback"

"$DSENC" --nodes "$WORK/plain" nodes >"$WORK/nodes" 2>"$WORK/err" ||
  fail "dsenc nodes: $(cat "$WORK/nodes" "$WORK/err")"
[ "$(grep -c " id=[0-9a-f]\{16\} domain=host[0-9]" "$WORK/nodes")" = "$UNITS" ] ||
  fail "dsenc nodes did not fill in every id and keep every domain: $(cat "$WORK/nodes")"
for ((i = 0; i < UNITS; i++)); do   # line i is unit i, with the id its directory holds
  line=$(grep -v '^ *#' "$WORK/nodes" | sed -n "$((i + 1))p")
  case "$line" in
    "$(endpoint_of "$i") "*" id=$(cat "$WORK/unit$i/unit.id") domain=host$(host_of "$i")"*) ;;
    *) fail "dsenc nodes line $i is '$line'" ;;
  esac
done
# While every unit is up, the default deadline (2 s per reply: a loaded machine does not fail
# the test); while hosts are cut off a short one, so that a cut-off unit costs 0.5 s a round.
NET=(--nodes "$WORK/nodes" -n 6 -k 4)
C=("${NET[@]}")
SEG=(--segment-size 65536)   # small segments: several per object

# place_hosts NAME: how many pillars of NAME each host holds, "h0 h1 h2" (dsenc place).
place_hosts() {
  "$DSENC" --json "${C[@]}" place "$1" >"$WORK/place" 2>"$WORK/err" ||
    fail "place $1: $(cat "$WORK/place" "$WORK/err")"
  [ "$(wc -l <"$WORK/place")" = 6 ] || fail "place $1 names $(wc -l <"$WORK/place") units, not 6"
  echo "$(grep -c '"domain":"host0"' "$WORK/place") $(grep -c '"domain":"host1"' "$WORK/place")" \
    "$(grep -c '"domain":"host2"' "$WORK/place")"
}

# --- all up: objects and functions stored, two slices per host --------------------------------------
OBJECTS=8
ACKED_OBJECTS=()
for ((o = 0; o < OBJECTS; o++)); do
  random_file "$WORK/obj$o" $((100000 + o * 37000 + RANDOM % 1000))
  "$DSENC" "${SEG[@]}" "${C[@]}" put "obj$o" "$WORK/obj$o" 2>"$WORK/err" ||
    fail "put obj$o with all units up: $(cat "$WORK/err")"
  ACKED_OBJECTS+=("obj$o")
done
: >"$WORK/placed.all"
for o in "${ACKED_OBJECTS[@]}"; do
  [ "$(place_hosts "$o")" = "2 2 2" ] || fail "$o is not placed 2 slices per host: $(cat "$WORK/place")"
  sed 's/.*"unit":\([0-9]*\).*/\1/' "$WORK/place" >>"$WORK/placed.all"
done
used=$(sort -u "$WORK/placed.all" | wc -l)
[ "$used" -ge 9 ] || fail "$OBJECTS objects use only $used of the $UNITS units"
# The placement is where the slices are: stat names exactly the placed units as ok.
for o in obj0 obj5; do
  place_hosts "$o" >/dev/null
  sed 's/.*"unit":\([0-9]*\).*/\1/' "$WORK/place" | sort -n >"$WORK/placed"
  "$DSENC" --json "${C[@]}" stat "$o" >"$WORK/stat.json" || fail "stat $o: $(cat "$WORK/stat.json")"
  python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
print("\n".join(str(u["unit"]) for u in j["units"] if u["state"] == "ok"))' "$WORK/stat.json" |
    sort -n >"$WORK/held"
  cmp -s "$WORK/held" "$WORK/placed" ||
    fail "$o is held by $(tr '\n' ' ' <"$WORK/held"), placed on $(tr '\n' ' ' <"$WORK/placed")"
done

: >"$WORK/pushed"
# push_fn TAG [OPTION...]: pushes a function that echoes TAG; records its key when acknowledged.
push_fn() {
  local key
  key=$("$DSENC" "${C[@]}" "${@:2}" push q -- echo "$1" 2>"$WORK/err") || return $?
  echo "$key" >>"$WORK/pushed"
}
for f in f1 f2 f3 f4; do push_fn "$f" || fail "push with all units up: $(cat "$WORK/err")"; done
[ "$(place_hosts "$(head -1 "$WORK/pushed")")" = "2 2 2" ] ||
  fail "queue q is not placed 2 units per host: $(cat "$WORK/place")"
QUNITS=$(sed 's/.*"unit":\([0-9]*\).*/\1/' "$WORK/place" | sort -n | tr '\n' ' ')
note "12 units on 3 hosts (dstk-$TAG-h0..2, 10.213.$X.0/24, CurveZMQ); $OBJECTS objects and" \
  "4 functions stored, 2 slices per host (units used: $used; queue on units $QUNITS)"

# --- host 1 cut off: 4 units, 2 slices of every object and of the queue gone ------------------------
CUT=1
link $CUT down
C=("${NET[@]}" --timeout 0.5)
"$DSENC" "${C[@]}" stat >"$WORK/stat" 2>&1 || fail "stat with one host cut off: $(cat "$WORK/stat")"
grep -q "network: 8 of 12 units up" "$WORK/stat" || fail "stat does not see host $CUT gone: $(cat "$WORK/stat")"
for o in "${ACKED_OBJECTS[@]}"; do
  "$DSENC" "${C[@]}" get "$o" >"$WORK/got" 2>"$WORK/err" ||
    fail "get $o with host $CUT cut off (n-k=2 slices gone): $(cat "$WORK/err")"
  cmp -s "$WORK/got" "$WORK/$o" || fail "$o differs with host $CUT cut off"
done
"$DSENC" "${C[@]}" ls obj >"$WORK/ls" 2>"$WORK/err" || fail "ls with host $CUT cut off: $(cat "$WORK/err")"
printf '%s\n' "${ACKED_OBJECTS[@]}" | sort | cmp -s - "$WORK/ls" ||
  fail "ls with host $CUT cut off lists [$(tr '\n' ' ' <"$WORK/ls")]"
"$DSCLAIM" "${C[@]}" q --max 1 --json >"$WORK/claims.during" 2>"$WORK/err" ||
  fail "claim with host $CUT cut off (n-q=2 of the queue's units gone): $(cat "$WORK/err")"
[ "$(wc -l <"$WORK/claims.during")" = 1 ] || fail "claim --max 1 claimed $(wc -l <"$WORK/claims.during")"
note "host $CUT cut off: every object reads, ls lists them all, a claim wins 4 of 6"

# Writes at the default w=5 cannot reach 5 of the 6 placed units: every placement has 2 on host 1.
random_file "$WORK/new" 150000
expect_rc 3 "$DSENC" "${SEG[@]}" "${C[@]}" put new "$WORK/new"
grep -q "w=5" "$WORK/err" && grep -q "${HADDR[$CUT]}" "$WORK/err" ||
  fail "put past the limit should name w=5 and a unit of host $CUT (${HADDR[$CUT]}): $(cat "$WORK/err")"
note "put at w=5 with a host gone: $(head -c 300 "$WORK/err")"
random_file "$WORK/obj2.failed" 120000
expect_rc 3 "$DSENC" "${SEG[@]}" "${C[@]}" put obj2 "$WORK/obj2.failed"   # keeps the old obj2
rc=0
push_fn f5 || rc=$?
[ "$rc" = 3 ] || fail "push at w=5 with host $CUT cut off exited $rc, expected 3: $(cat "$WORK/err")"
grep -q "w=5" "$WORK/err" || fail "push past the limit should name w=5: $(cat "$WORK/err")"
"$DSENC" "${C[@]}" get obj2 | cmp - "$WORK/obj2" || fail "a failed overwrite harmed obj2"

# With -w 4 the 4 units left are enough: a new object, an overwrite, a function.
random_file "$WORK/w4new" 170000
"$DSENC" "${SEG[@]}" "${C[@]}" -w 4 put w4new "$WORK/w4new" 2>"$WORK/err" ||
  fail "put -w 4 with host $CUT cut off: $(cat "$WORK/err")"
ACKED_OBJECTS+=(w4new)
random_file "$WORK/obj3.new" 90000
"$DSENC" "${SEG[@]}" "${C[@]}" -w 4 put obj3 "$WORK/obj3.new" 2>"$WORK/err" ||
  fail "overwrite -w 4 with host $CUT cut off: $(cat "$WORK/err")"
mv "$WORK/obj3.new" "$WORK/obj3"
for o in w4new obj3; do
  "$DSENC" "${C[@]}" get "$o" | cmp - "$WORK/$o" || fail "$o written with -w 4 does not read back"
done
push_fn f6 -w 4 || fail "push -w 4 with host $CUT cut off: $(cat "$WORK/err")"
"$DSCLAIM" "${C[@]}" q --max 1 --json >>"$WORK/claims.during" 2>"$WORK/err" ||
  fail "second claim with host $CUT cut off: $(cat "$WORK/err")"
note "host $CUT cut off: puts and pushes at w=5 fail with exit 3 naming w; at -w 4 they succeed"

# --- host 2 cut off too: 4 of 6 slices gone, below k and q ------------------------------------------
link 2 down
expect_rc 3 "$DSENC" "${C[@]}" get obj0
grep -q "need k=4" "$WORK/err" && grep -q "${HADDR[2]}" "$WORK/err" ||
  fail "get with two hosts gone should name k=4 and a unit of host 2 (${HADDR[2]}): $(cat "$WORK/err")"
note "get with two hosts gone: $(head -c 300 "$WORK/err")"
expect_rc 3 "$DSCLAIM" "${C[@]}" q --max 1
grep -q "q=4" "$WORK/err" || fail "claim with two hosts gone should name q=4: $(cat "$WORK/err")"
note "claim with two hosts gone: $(head -c 300 "$WORK/err")"

# --- healing: links up ------------------------------------------------------------------------------
link $CUT up
link 2 up
C=("${NET[@]}")
deadline=$((SECONDS + 20))
until "$DSENC" "${C[@]}" stat >"$WORK/stat" 2>&1; grep -q "network: 12 of 12 units up" "$WORK/stat"; do
  [ $SECONDS -lt $deadline ] || fail "units did not all answer after healing: $(cat "$WORK/stat")"
  sleep 0.3
done
for o in "${ACKED_OBJECTS[@]}"; do
  "$DSENC" "${C[@]}" get "$o" >"$WORK/got" 2>"$WORK/err" ||
    fail "acknowledged object $o not readable after healing: $(cat "$WORK/err")"
  cmp -s "$WORK/got" "$WORK/$o" || fail "acknowledged object $o differs after healing"
done
expect_rc 1 "$DSENC" "${C[@]}" get new   # the failed put was never published anywhere
"$DSENC" "${SEG[@]}" "${C[@]}" put new "$WORK/new" 2>"$WORK/err" || fail "put after healing: $(cat "$WORK/err")"
"$DSENC" "${C[@]}" get new | cmp - "$WORK/new" || fail "new after healing"

# Every acknowledged push is claimed exactly once: two claimers race for the rest of the queue.
claimed_exactly_once 5 "${C[@]}"
note "healed: ${#ACKED_OBJECTS[@]} acknowledged objects read back byte for byte; 5 acknowledged" \
  "functions claimed exactly once"
note "netns_hosts run took $((SECONDS - t0)) s after start-up"
echo "PASS netns_hosts"
