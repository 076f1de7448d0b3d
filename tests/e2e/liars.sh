#!/usr/bin/env bash
# Units that lie: lying_unit (a proxy, tests/e2e/lying_unit.cc) stands in front of a real unit
# and forges slices (with a valid CRC), reports a newer revision that was never written, or a
# tombstone. Six units, k=4 (n=6, w=5: one liar tolerated). With one liar a get returns the
# true bytes and warns about it, and `dsenc stat` names it; past the tolerance a get fails with
# exit 3, names the liars, and writes nothing that is not the object's. A proxy that garbles
# slices without fixing their CRC is damage, not a lie: the get reads around it quietly.
# A reader stops listening once enough units have answered, and a proxy answers a little later
# than a unit: so that the liar is always heard, two honest units are reached through proxies
# that tell the truth 200 ms late (--lie none --delay 200).
PORT_BASE=${PORT_BASE:-17800}
PORT_SPAN=11 # units on PORT_BASE+0..5, proxies 0..4 on PORT_BASE+6..10
source "$(dirname "$0")/lib.sh"
LYING_UNIT="${DSTK_TEST_HELPERS:?}/lying_unit"
[ -x "$LYING_UNIT" ] || fail "no $LYING_UNIT: build the lying_unit target"
start_units 6
unset DSTK_NODES # every command below names its node list
declare -a LIAR_PID=()
# Words of a line that says a unit is not to be believed (the warning of get, a row of stat).
BLAME='lie|bad|confirm|damaged'

endpoint() { echo "tcp://127.0.0.1:$1"; }
liar_port() { echo $((PORT_BASE + 6 + $1)); }

# start_liar J UNIT MODE [OPTION...]: proxy J, lying in MODE, in front of unit UNIT; waits until
# it listens (its --ready-file is written).
start_liar() {
  local j=$1 u=$2 mode=$3 tries=0 log="$WORK/liar$1.log"
  : >"$log"
  rm -f "$WORK/liar$j.ready"
  "$LYING_UNIT" --listen "$(endpoint "$(liar_port "$j")")" --unit "$(endpoint $((PORT_BASE + u)))" \
    --lie "$mode" --ready-file "$WORK/liar$j.ready" "${@:4}" 2>>"$log" &
  LIAR_PID[$j]=$!
  until [ -s "$WORK/liar$j.ready" ]; do
    tries=$((tries + 1))
    [ $tries -lt 200 ] || fail "lying_unit $j did not start: $(cat "$log")"
    kill -0 "${LIAR_PID[$j]}" 2>/dev/null || fail "lying_unit $j exited: $(cat "$log")"
    sleep 0.02
  done
}

# start_slow A B: proxies 3 and 4, truthful and 200 ms late, in front of units A and B.
start_slow() {
  start_liar 3 "$1" none --delay 200
  start_liar 4 "$2" none --delay 200
}

# stop_liars: SIGTERM to every proxy; each must exit 0 and log "stopped cleanly".
stop_liars() {
  local j rc
  for j in "${!LIAR_PID[@]}"; do
    [ -n "${LIAR_PID[$j]}" ] || continue
    kill -TERM "${LIAR_PID[$j]}"
    rc=0
    wait "${LIAR_PID[$j]}" || rc=$?
    [ $rc = 0 ] || fail "lying_unit $j exited $rc on SIGTERM: $(cat "$WORK/liar$j.log")"
    [ "$(tail -n 1 "$WORK/liar$j.log")" = "lying_unit: stopped cleanly" ] ||
      fail "lying_unit $j did not stop cleanly: $(cat "$WORK/liar$j.log")"
    LIAR_PID[$j]=""
  done
}

# liar_list FILE UNIT:J...: the node list of the six units, unit UNIT's line naming proxy J.
liar_list() {
  local file=$1 u pair
  : >"$file"
  for ((u = 0; u < 6; u++)); do
    local port=$((PORT_BASE + u))
    for pair in "${@:2}"; do
      [ "${pair%%:*}" = "$u" ] && port=$(liar_port "${pair#*:}")
    done
    endpoint "$port" >>"$file"
  done
}

# blamed FILE PORT: FILE has a line naming the endpoint on PORT as not to be believed.
# (grep -q would end the pipe early: a SIGPIPE that pipefail counts as a failure.)
blamed() { grep -E "tcp://127\.0\.0\.1:$2([^0-9]|$)" "$1" | grep -iE "$BLAME" >/dev/null; }
# named FILE PORT: FILE names the endpoint on PORT.
named() { grep -qE "tcp://127\.0\.0\.1:$2([^0-9]|$)" "$1"; }

# put_object NAME: random bytes in five segments and a bit, stored through the honest list.
put_object() {
  random_file "$WORK/$1.in" $((5 * 65536 + 1234))
  "$DSENC" --nodes "$WORK/nodes" --segment-size 65536 put "$1" "$WORK/$1.in" 2>"$WORK/err" ||
    fail "put $1: $(cat "$WORK/err" 2>/dev/null)"
}

# The honest units are untouched by a liar: the object reads and is healthy without it.
honest_after() {
  "$DSENC" --nodes "$WORK/nodes" get "$1" >"$WORK/out" 2>"$WORK/err" || fail "$1: honest get: $(cat "$WORK/err")"
  cmp -s "$WORK/out" "$WORK/$1.in" || fail "$1: the honest units' copy changed"
  "$DSENC" --nodes "$WORK/nodes" stat "$1" >"$WORK/stat" || fail "$1: honest stat: $(cat "$WORK/stat")"
  grep -q "healthy: 6 of 6 units hold every slice" "$WORK/stat" || fail "$1: not healthy: $(cat "$WORK/stat")"
}

# --- a proxy that does not lie is transparent (a put through it, a get, stat) --------------------
start_liar 0 0 none
liar_list "$WORK/list" 0:0
P0=$(liar_port 0)
random_file "$WORK/plain.in" $((3 * 65536 + 99))
"$DSENC" --nodes "$WORK/list" --segment-size 65536 put plain "$WORK/plain.in" 2>"$WORK/err" ||
  fail "put through a proxy that tells the truth: $(cat "$WORK/err")"
"$DSENC" --nodes "$WORK/list" get plain >"$WORK/out" 2>"$WORK/err" || fail "get through it: $(cat "$WORK/err")"
cmp -s "$WORK/out" "$WORK/plain.in" || fail "get through a truthful proxy changed the bytes"
! named "$WORK/err" "$P0" || fail "a truthful proxy was blamed by get: $(cat "$WORK/err")"
"$DSENC" --nodes "$WORK/list" stat plain >"$WORK/stat" || fail "stat through it: $(cat "$WORK/stat")"
grep -qE "^  0 +tcp://127\.0\.0\.1:$P0 +ok +4/4 slices$" "$WORK/stat" || fail "stat through it: $(cat "$WORK/stat")"
grep -q "healthy: 6 of 6 units hold every slice" "$WORK/stat" || fail "not healthy through it: $(cat "$WORK/stat")"
! grep -qE "forged|reported" "$WORK/liar0.log" || fail "--lie none lied: $(cat "$WORK/liar0.log")"
stop_liars

# --- one liar: the reader gets the true bytes, warns, and stat names the liar -------------------
# slices: unit 0, a data pillar that a healthy read asks first. newer, tomb: units 1 and 2.
# Units 4 and 5 answer late.
unit=0
for mode in slices newer tomb; do
  obj=obj-$mode
  put_object "$obj"
  start_liar 0 $unit $mode
  start_slow 4 5
  liar_list "$WORK/list" $unit:0 4:3 5:4
  rc=0
  "$DSENC" --nodes "$WORK/list" get "$obj" >"$WORK/out" 2>"$WORK/err" || rc=$?
  case $mode in
    slices) grep -q "forged slice $obj " "$WORK/liar0.log" || fail "$mode: the proxy forged no slice: $(cat "$WORK/liar0.log")" ;;
    *) grep -q "reported " "$WORK/liar0.log" || fail "$mode: the proxy told no lie: $(cat "$WORK/liar0.log")" ;;
  esac
  [ $rc = 0 ] || fail "$mode: get with one liar exited $rc: $(cat "$WORK/err")"
  cmp -s "$WORK/out" "$WORK/$obj.in" ||
    fail "$mode: get with one liar wrote other bytes than the object's ($(cmp "$WORK/out" "$WORK/$obj.in" 2>&1))"
  blamed "$WORK/err" "$P0" || fail "$mode: get does not warn about the liar ($P0): $(cat "$WORK/err")"
  "$DSENC" --nodes "$WORK/list" stat "$obj" >"$WORK/stat" 2>"$WORK/err" || true
  blamed "$WORK/stat" "$P0" ||
    fail "$mode: stat does not name the liar ($P0): $(cat "$WORK/stat" "$WORK/err")"
  stop_liars
  honest_after "$obj"
  unit=$((unit + 1))
done

# --- damage is not a lie: slices changed on the way, their CRC left as it was -------------------
# The reader checks the digest first and the CRC only when the digest fails: a wrong CRC says the
# slice was damaged, so the get reads around it without calling its unit a liar.
put_object garbled
start_liar 0 0 garble
start_slow 4 5
liar_list "$WORK/list" 0:0 4:3 5:4
rc=0
"$DSENC" --nodes "$WORK/list" get garbled >"$WORK/out" 2>"$WORK/err" || rc=$?
grep -q "garbled slice garbled " "$WORK/liar0.log" || fail "garble: no slice garbled: $(cat "$WORK/liar0.log")"
[ $rc = 0 ] || fail "garble: get exited $rc: $(cat "$WORK/err")"
cmp -s "$WORK/out" "$WORK/garbled.in" || fail "garble: get wrote other bytes than the object's"
! grep -q "lies" "$WORK/err" || fail "garble: damage was called a lie: $(cat "$WORK/err")"
stop_liars

# --- past the tolerance: two liars agree on a newer revision that only they hold ----------------
# Two identical copies make the fake manifest trusted (f+1 = 2), but two units hold slices of it
# and k = 4 are needed: the get must fail, name both, and write nothing.
put_object two
start_liar 0 1 newer
start_liar 1 4 newer
start_slow 3 5
liar_list "$WORK/list" 1:0 4:1 3:3 5:4
rc=0
"$DSENC" --nodes "$WORK/list" get two >"$WORK/out" 2>"$WORK/err" || rc=$?
[ $rc = 3 ] || fail "two liars (newer): get exited $rc, expected 3: $(cat "$WORK/err")"
[ ! -s "$WORK/out" ] || fail "two liars (newer): get wrote $(wc -c <"$WORK/out") bytes"
for j in 0 1; do
  named "$WORK/err" "$(liar_port $j)" || fail "two liars (newer): liar $j ($(liar_port $j)) not named: $(cat "$WORK/err")"
done
stop_liars
honest_after two

# --- past the tolerance: three units forge slices, three are left (k = 4) -----------------------
put_object three
start_liar 0 0 slices
start_liar 1 1 slices
start_liar 2 2 slices
liar_list "$WORK/list" 0:0 1:1 2:2
rc=0
"$DSENC" --nodes "$WORK/list" get three >"$WORK/out" 2>"$WORK/err" || rc=$?
grep -q "forged slice three " "$WORK"/liar[012].log ||
  fail "three liars: no slice forged: $(cat "$WORK"/liar[012].log)"
# Whatever was written must be the object's own first bytes (or nothing).
head -c "$(stat -c %s "$WORK/out")" "$WORK/three.in" | cmp -s - "$WORK/out" ||
  fail "three liars (slices): get wrote bytes that are not the object's ($(wc -c <"$WORK/out") bytes written)"
[ $rc = 3 ] || fail "three liars (slices): get exited $rc, expected 3: $(cat "$WORK/err")"
for j in 0 1 2; do
  named "$WORK/err" "$(liar_port $j)" || fail "three liars (slices): liar $j ($(liar_port $j)) not named: $(cat "$WORK/err")"
done
stop_liars
honest_after three
echo "PASS liars"
