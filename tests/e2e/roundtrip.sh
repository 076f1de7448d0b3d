#!/usr/bin/env bash
# put/get round trips on 6 units for 0 B, 1 B, 1 MiB+1 and 100 MiB; overwrite; ls; rm.
PORT_BASE=${PORT_BASE:-17100}
source "$(dirname "$0")/lib.sh"
start_units 6

for size in 0 1 $((1024 * 1024 + 1)) $((100 * 1024 * 1024)); do
  random_file "$WORK/in" "$size"
  expect_rc 0 "$DSENC" put "sizes/$size" "$WORK/in"
  "$DSENC" get "sizes/$size" >"$WORK/out" || fail "get sizes/$size"
  cmp "$WORK/in" "$WORK/out" || fail "round trip of $size bytes differs"
  note "round trip of $size bytes ok"
done

# From a pipe (unknown length) with a small segment size: many segments, last one partial.
random_file "$WORK/in" 300001
cat "$WORK/in" | "$DSENC" --segment-size 65536 put piped || fail "put from a pipe"
"$DSENC" get piped | cmp - "$WORK/in" || fail "round trip from a pipe differs"

# Overwrite: the new revision is read, the old one is gone from the units.
echo "first" | "$DSENC" put over
rev1=$("$DSENC" --json stat over | sed 's/.*"rev":\([0-9]*\).*/\1/')
echo "second" | "$DSENC" put over
rev2=$("$DSENC" --json stat over | sed 's/.*"rev":\([0-9]*\).*/\1/')
[ "$("$DSENC" get over)" = "second" ] || fail "overwrite did not give the new revision"
[ "$rev2" -gt "$rev1" ] || fail "revision did not grow: $rev1 -> $rev2"
old=$(printf '%016x' "$rev1")
! ls "$WORK"/unit*/objects/over/ | grep -q "^$old" || fail "old revision left on a unit"

# ls lists names in order; -0 separates with NUL; a prefix narrows it.
"$DSENC" ls >"$WORK/ls"
printf 'over\npiped\nsizes/0\nsizes/1\nsizes/104857600\nsizes/1048577\n' | cmp - "$WORK/ls" || fail "ls: $(cat "$WORK/ls")"
[ "$("$DSENC" ls -0 sizes/ | tr '\0' '\n' | wc -l)" = 4 ] || fail "ls -0 prefix"

# rm: gone for get (exit 1), stat, ls; rm again is exit 1 too.
expect_rc 0 "$DSENC" rm over
expect_rc 1 "$DSENC" get over
grep -q "no object over" "$WORK/err" || fail "get after rm: $(cat "$WORK/err")"
expect_rc 1 "$DSENC" rm over
! "$DSENC" ls | grep -qx over || fail "ls still shows a removed object"

# Usage errors exit 2 and name the problem.
expect_rc 2 "$DSENC" put ../etc/passwd "$WORK/in"
expect_rc 2 "$DSENC" get "/abs"
expect_rc 2 "$DSENC" put x "$WORK/in" -k 7
expect_rc 2 env -u DSTK_NODES "$DSENC" get x
grep -q "DSTK_NODES" "$WORK/err" || fail "missing node list not explained"
# The network health view: every unit, then one down; --json for scripts.
"$DSENC" stat >"$WORK/health" || fail "stat without a name"
grep -q "network: 6 of 6 units up" "$WORK/health" || fail "health: $(cat "$WORK/health")"
kill_unit 5
"$DSENC" --timeout 0.3 --json stat >"$WORK/health" || fail "stat with one unit down"
grep -q '"up":5,"n":6' "$WORK/health" || fail "health json: $(cat "$WORK/health")"
grep -q '"unit":5,"endpoint":"tcp://127.0.0.1:'$((PORT_BASE + 5))'","reachable":false' "$WORK/health" ||
  fail "health json does not name the down unit"

# dsnode --config: the same options from a file.
printf 'dir = "%s"\nlisten = "tcp://127.0.0.1:%s"\nlog-level = "warn"\n' "$WORK/conf-unit" $((PORT_BASE + 9)) >"$WORK/unit.conf"
"$DSNODE" --config "$WORK/unit.conf" 2>"$WORK/conf.log" &
UNIT_PID[9]=$!
sleep 0.3
DSTK_NODES=127.0.0.1:$((PORT_BASE + 9)) "$DSENC" stat >"$WORK/health" || fail "unit from --config: $(cat "$WORK/conf.log")"
[ -d "$WORK/conf-unit/objects" ] || fail "--config dir not used"
echo "PASS roundtrip"
