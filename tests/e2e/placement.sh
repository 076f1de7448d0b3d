#!/usr/bin/env bash
# Placement over a network larger than one stripe: 24 units in 4 failure domains (6 each),
# objects of width n=6 (k=4). Checks that
#   - slices spread evenly (every unit within +-50% of the mean) and no domain holds more than
#     ceil(6/4) = 2 slices of an object;
#   - every object reads byte for byte with a whole domain down;
#   - after 6 units in a 5th domain join, `dsenc rebalance` moves exactly the slices rendezvous
#     placement requires (counted here independently with `dsenc place`), reads running
#     meanwhile never fail, a kill -9 part way leaves every object readable, and a second run
#     moves nothing;
#   - every object then survives another whole domain down;
#   - a queue lives on its own n units: functions pushed, claimed and run on the big network.
PORT_BASE=17500
PORT_SPAN=32
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
OBJECTS=${DSTK_PLACEMENT_OBJECTS:-120}

# list_for FIRST LAST: node list lines (endpoint and domain) of units FIRST..LAST.
list_for() {
  local i
  for ((i = $1; i <= $2; i++)); do
    echo "tcp://127.0.0.1:$((PORT_BASE + i)) domain=d$((i / 6))"
  done
}

# Fixed unit ids (what dsnode would draw at random the first time), so that the placement and
# the figures below are the same on every run.
for ((i = 0; i < 30; i++)); do
  mkdir -p "$WORK/unit$i"
  printf '%016x\n' $((0x5eed00000000 + i * 7919)) >"$WORK/unit$i/unit.id"
done
for ((i = 0; i < 24; i++)); do start_unit "$i"; done
list_for 0 23 >"$WORK/plain"
"$DSENC" --nodes "$WORK/plain" nodes >"$WORK/nodes24" || fail "dsenc nodes: $(cat "$WORK/nodes24")"
grep -c " id=[0-9a-f]\{16\} domain=d" "$WORK/nodes24" | grep -qx 24 ||
  fail "dsenc nodes did not fill in every id: $(cat "$WORK/nodes24")"
unset DSTK_NODES
NET=(--nodes "$WORK/nodes24" -n 6 -k 4)

note "$OBJECTS objects of width 6 on 24 units"
for ((o = 0; o < OBJECTS; o++)); do
  random_file "$WORK/obj$o" $((1000 + RANDOM % 20000))
  "$DSENC" "${NET[@]}" put "data/obj$o" "$WORK/obj$o" || fail "put obj$o"
done

# Every object has one segment, so a unit's slice count is how many objects it holds.
"$DSENC" --nodes "$WORK/nodes24" --json stat >"$WORK/health" || fail "stat: $(cat "$WORK/health")"
python3 - "$WORK/health" "$OBJECTS" <<'PY' || fail "slices are not spread evenly"
import json, sys
units = json.loads(open(sys.argv[1]).read())["units"]
counts = [u["slices"] for u in units]
mean = int(sys.argv[2]) * 6 / len(counts)
print("-- slices per unit: min %d max %d mean %.1f" % (min(counts), max(counts), mean), file=sys.stderr)
sys.exit(0 if all(0.5 * mean <= c <= 1.5 * mean for c in counts) else 1)
PY

# domain_counts LIST NAME: the most slices of NAME that one domain of LIST holds (by dsenc place).
max_per_domain() {
  "$DSENC" --nodes "$1" -n 6 --json place "$2" | sed 's/.*"domain":"\([^"]*\)".*/\1/' |
    sort | uniq -c | sort -rn | awk 'NR==1 {print $1}'
}
for o in 0 1 2 3 4 5 6 7; do
  [ "$(max_per_domain "$WORK/nodes24" "data/obj$o")" -le 2 ] || fail "obj$o: a domain holds more than 2 slices"
done
# The placement is where the slices are: stat names exactly the placed units.
"$DSENC" "${NET[@]}" --json stat data/obj3 | python3 -c '
import json, sys
j = json.load(sys.stdin)
print("\n".join(str(u["unit"]) for u in j["units"] if u["state"] == "ok"))' | sort -n >"$WORK/held3"
"$DSENC" --nodes "$WORK/nodes24" -n 6 --json place data/obj3 | sed 's/.*"unit":\([0-9]*\).*/\1/' |
  sort -n >"$WORK/placed3"
cmp -s "$WORK/held3" "$WORK/placed3" || fail "obj3 is held by $(tr '\n' ' ' <"$WORK/held3"), placed on $(tr '\n' ' ' <"$WORK/placed3")"

check_all() {
  local o
  for ((o = 0; o < OBJECTS; o++)); do
    "$DSENC" "${NET[@]}" --timeout 0.5 get "data/obj$o" >"$WORK/got" 2>"$WORK/err" ||
      fail "$1: get obj$o: $(cat "$WORK/err")"
    cmp -s "$WORK/got" "$WORK/obj$o" || fail "$1: obj$o differs"
  done
}

# A reader that does not know the width (the default, 8, is wider): the manifest tells it.
for o in 0 1 2 3 4 5 6 7 8 9; do
  "$DSENC" --nodes "$WORK/nodes24" get "data/obj$o" | cmp -s - "$WORK/obj$o" ||
    fail "obj$o read without -n"
done

note "domain d0 (units 0-5) down: every object reads"
for ((i = 0; i < 6; i++)); do kill_unit "$i"; done
check_all "d0 down"
for ((i = 0; i < 6; i++)); do start_unit "$i"; done

note "6 units join in domain d4; rebalance"
for ((i = 24; i < 30; i++)); do start_unit "$i"; done
{ cat "$WORK/nodes24"; list_for 24 29; } >"$WORK/plain30"
"$DSENC" --nodes "$WORK/plain30" nodes >"$WORK/nodes30" || fail "dsenc nodes (30)"
# The minimum: per object, the units of its new placement that its old one lacks.
minimum=0
for ((o = 0; o < OBJECTS; o++)); do
  "$DSENC" --nodes "$WORK/nodes24" -n 6 --json place "data/obj$o" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/' | sort >"$WORK/old"
  "$DSENC" --nodes "$WORK/nodes30" -n 6 --json place "data/obj$o" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/' | sort >"$WORK/new"
  minimum=$((minimum + $(comm -13 "$WORK/old" "$WORK/new" | wc -l)))
done
NET=(--nodes "$WORK/nodes30" -n 6 -k 4)

# Readers run throughout; any failed read is recorded.
: >"$WORK/read.fail"
reader() {
  local o
  while [ ! -e "$WORK/stop.readers" ]; do
    o=$((RANDOM % OBJECTS))
    if ! "$DSENC" "${NET[@]}" get "data/obj$o" >"$WORK/rgot.$1" 2>"$WORK/rerr.$1" ||
      ! cmp -s "$WORK/rgot.$1" "$WORK/obj$o"; then
      echo "obj$o: $(cat "$WORK/rerr.$1")" >>"$WORK/read.fail"
    fi
  done
}
reader 1 &
READER1=$!
reader 2 &
READER2=$!

# A kill -9 part way, then a full run.
new_units_hold() {
  "$DSENC" --nodes "$WORK/nodes30" --json stat | python3 -c '
import json, sys
print(sum(u.get("slices", 0) for u in json.load(sys.stdin)["units"][24:]))'
}
"$DSENC" "${NET[@]}" --json rebalance >"$WORK/rebalance.killed" 2>&1 &
REB=$!
for ((t = 0; t < 200; t++)); do  # until the first slices have moved
  [ "$(new_units_hold)" -gt 0 ] && break
  sleep 0.05
done
kill -9 "$REB" 2>/dev/null || true
wait "$REB" 2>/dev/null || true
! grep -q '"slices_moved"' "$WORK/rebalance.killed" || fail "the rebalance finished before the kill -9"
note "rebalance killed -9 after $(new_units_hold) slices had moved"
check_all "after a killed rebalance"
"$DSENC" "${NET[@]}" --json rebalance >"$WORK/rebalance.json" 2>"$WORK/rebalance.err" ||
  fail "rebalance: $(cat "$WORK/rebalance.json" "$WORK/rebalance.err")"
touch "$WORK/stop.readers"
wait "$READER1" "$READER2"
[ ! -s "$WORK/read.fail" ] || fail "reads failed during rebalance: $(head -3 "$WORK/read.fail")"

# Slices moved over both runs: what the five new units hold now (each slice moved lands on one).
"$DSENC" --nodes "$WORK/nodes30" --json stat >"$WORK/health30"
moved=$(python3 -c '
import json, sys
units = json.loads(open(sys.argv[1]).read())["units"]
print(sum(u["slices"] for u in units[24:]))' "$WORK/health30")
echo "-- rebalance: $moved slices moved, rendezvous placement requires $minimum" >&2
[ "$minimum" -gt 0 ] || fail "adding a domain changed no placement"
[ "$moved" -ge "$minimum" ] || fail "only $moved slices moved, $minimum needed"
[ $((moved * 4)) -le $((minimum * 5)) ] || fail "$moved slices moved, more than 1.25 x $minimum"
# Old copies are gone: the 30 units hold exactly n slices of each object.
total=$(python3 -c 'import json,sys; print(sum(u["slices"] for u in json.loads(open(sys.argv[1]).read())["units"]))' "$WORK/health30")
[ "$total" = $((OBJECTS * 6)) ] || fail "$total slices on the network, expected $((OBJECTS * 6))"
"$DSENC" "${NET[@]}" --json rebalance >"$WORK/rebalance.again" || fail "second rebalance"
grep -q '"slices_moved":0,' "$WORK/rebalance.again" || fail "a second rebalance moved slices: $(cat "$WORK/rebalance.again")"

note "domain d1 (units 6-11) down after the rebalance: every object reads"
for ((i = 6; i < 12; i++)); do kill_unit "$i"; done
check_all "d1 down"
for ((i = 6; i < 12; i++)); do start_unit "$i"; done

# objects_healthy LIST: every object's stat says healthy (6 of 6 units hold every slice).
objects_healthy() {
  local o
  for ((o = 0; o < OBJECTS; o++)); do
    "$DSENC" --nodes "$1" -n 6 -k 4 --json stat "data/obj$o" >"$WORK/st" 2>&1 ||
      fail "$2: stat obj$o: $(cat "$WORK/st")"
    grep -q '"health":"healthy"' "$WORK/st" || fail "$2: obj$o is not healthy: $(cat "$WORK/st")"
  done
}
total_slices() {
  "$DSENC" --nodes "$1" --json stat | python3 -c '
import json, sys
print(sum(u.get("slices", 0) for u in json.load(sys.stdin)["units"]))'
}

note "unit 13's disk is replaced (a new, empty directory: a new id); repair refills the network"
kill_unit 13
rm -rf "$WORK/unit13"
start_unit 13
"$DSENC" --nodes "$WORK/plain30" nodes >"$WORK/nodes30r" || fail "dsenc nodes after the replacement"
! cmp -s "$WORK/nodes30" "$WORK/nodes30r" || fail "the replaced unit kept its id"
NET=(--nodes "$WORK/nodes30r" -n 6 -k 4)
"$DSENC" "${NET[@]}" repair --all >"$WORK/repair.out" 2>&1 || fail "repair --all: $(cat "$WORK/repair.out")"
objects_healthy "$WORK/nodes30r" "after the replacement"
total=$(total_slices "$WORK/nodes30r")
[ "$total" = $((OBJECTS * 6)) ] || fail "$total slices after the replacement, expected $((OBJECTS * 6))"
"$DSENC" "${NET[@]}" --json rebalance >"$WORK/rebalance.r" || fail "rebalance after repair"
grep -q '"failures":0' "$WORK/rebalance.r" || fail "rebalance after repair: $(cat "$WORK/rebalance.r")"

note "unit 20 drained (leaving), then every object reads and it holds nothing"
sed "$((20 + 1))s/\$/ leaving/" "$WORK/nodes30r" >"$WORK/nodes30d"
grep -c " leaving" "$WORK/nodes30d" | grep -qx 1 || fail "leaving not marked: $(cat "$WORK/nodes30d")"
NET=(--nodes "$WORK/nodes30d" -n 6 -k 4)
"$DSENC" "${NET[@]}" --json rebalance >"$WORK/rebalance.d" || fail "drain: $(cat "$WORK/rebalance.d")"
"$DSENC" --nodes "$WORK/nodes30d" --json stat | python3 -c '
import json, sys
print(json.load(sys.stdin)["units"][20]["slices"])' >"$WORK/left20"
[ "$(cat "$WORK/left20")" = 0 ] || fail "unit 20 still holds $(cat "$WORK/left20") slices after the drain"
check_all "after the drain"
objects_healthy "$WORK/nodes30d" "after the drain"

note "a queue on 6 of the 30 units"
for ((f = 0; f < 5; f++)); do
  "$DSENC" "${NET[@]}" push jobs --in "data/obj$f" --out "out/$f" -- wc -c >/dev/null || fail "push $f"
done
"$DSCLAIM" "${NET[@]}" jobs | "$DSRUN" "${NET[@]}" >"$WORK/ran" 2>"$WORK/run.err" || fail "dsrun: $(cat "$WORK/run.err")"
[ "$(grep -c '"outcome":"done"' "$WORK/ran")" = 5 ] || fail "not every function ran: $(cat "$WORK/ran")"
for ((f = 0; f < 5; f++)); do
  want=$(wc -c <"$WORK/obj$f")
  got=$("$DSENC" "${NET[@]}" get "out/$f" | tr -d ' \n')
  [ "$got" = "$want" ] || fail "out/$f is '$got', expected $want"
done
echo "PASS"
