#!/usr/bin/env bash
# Tolerance at the limit and one past it: with k=4 of n=6 (w=5), get works with n-k=2 units
# down and fails clearly with 3 down; put works with n-w=1 down and fails clearly with 2 down,
# leaving the previous revision readable.
PORT_BASE=${PORT_BASE:-17120}
source "$(dirname "$0")/lib.sh"
start_units 6
random_file "$WORK/in" $((3 * 1024 * 1024 + 17))
"$DSENC" put obj "$WORK/in"

kill_unit 0
kill_unit 3
"$DSENC" --timeout 0.5 get obj >"$WORK/out" || fail "degraded get with 2 of 6 down"
cmp "$WORK/in" "$WORK/out" || fail "degraded get differs"
note "get with 2 units down ok"

kill_unit 5
expect_rc 3 "$DSENC" get obj --timeout 0.5
grep -q "need k=4" "$WORK/err" && grep -q "127.0.0.1:$((PORT_BASE + 5))" "$WORK/err" ||
  fail "get past the limit should name the units and k: $(cat "$WORK/err")"
note "get with 3 units down fails clearly: $(cat "$WORK/err")"

start_unit 0
start_unit 3
start_unit 5
kill_unit 2
random_file "$WORK/in2" 100000
"$DSENC" put obj "$WORK/in2" --timeout 0.5 || fail "put with n-w=1 unit down"
"$DSENC" get obj --timeout 0.5 | cmp - "$WORK/in2" || fail "read after put with 1 down"
# Its first stat round waits for n-w+1 answers and a short grace, not for the dead unit's whole
# timeout: a put with a 10 s timeout and one unit dead is done in well under 10 s.
t0=$(date +%s%N)
"$DSENC" put obj2 "$WORK/in2" --timeout 10 || fail "put with n-w=1 unit down (10 s timeout)"
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$ms" -lt 5000 ] || fail "put with a dead unit waited ${ms} ms: the first round waited the timeout"
"$DSENC" get obj2 --timeout 0.5 | cmp - "$WORK/in2" || fail "read after the quick put"
note "put with 1 unit down and a 10 s timeout: ${ms} ms"

kill_unit 4
random_file "$WORK/in3" 100000
expect_rc 3 "$DSENC" put obj "$WORK/in3" --timeout 0.5
grep -q "w=5" "$WORK/err" || fail "put past the limit should say w: $(cat "$WORK/err")"
"$DSENC" get obj --timeout 0.5 | cmp - "$WORK/in2" || fail "failed put harmed the previous revision"
note "put with 2 units down fails clearly, previous revision intact"

# A put whose units die mid-way (after the stat round) fails and the old revision stays.
# First a baseline revision on all six units (unit 2 missed the last one).
start_unit 2
start_unit 4
"$DSENC" put obj "$WORK/in2" --timeout 0.5 || fail "baseline put with all units up"
random_file "$WORK/big" $((120 * 1024 * 1024))
( sleep 0.1; kill -9 "${UNIT_PID[1]}" "${UNIT_PID[3]}" ) &
killer=$!
rc=0
"$DSENC" --segment-size 1048576 put obj "$WORK/big" --timeout 0.5 2>"$WORK/err" || rc=$?
wait "$killer"
if [ "$rc" = 0 ]; then
  note "the put finished before the units died; reading it back instead"
  "$DSENC" get obj --timeout 0.5 | cmp - "$WORK/big" || fail "acknowledged put not readable"
else
  [ "$rc" = 3 ] || fail "mid-put failure exit $rc: $(cat "$WORK/err")"
  "$DSENC" get obj --timeout 0.5 >"$WORK/out" || fail "get after mid-put failure: $(cat "$WORK/err") / $("$DSENC" get obj --timeout 0.5 2>&1 >/dev/null)"
  cmp "$WORK/out" "$WORK/in2" || fail "mid-put failure harmed the previous revision"
fi
echo "PASS degraded"
