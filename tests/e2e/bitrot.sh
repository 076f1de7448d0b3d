#!/usr/bin/env bash
# A flipped byte or a truncated slice file is detected by CRC32C, never served, reported by
# stat, and the object is still read correctly from the other units.
PORT_BASE=${PORT_BASE:-17140}
source "$(dirname "$0")/lib.sh"
start_units 6
random_file "$WORK/in" $((2 * 1024 * 1024 + 5))
"$DSENC" --segment-size 1048576 put obj "$WORK/in"

# Damage data pillars (units 0 and 1), which a healthy read would use first.
slice0=$(ls "$WORK"/unit0/objects/obj/*.00000000.slice)
slice1=$(ls "$WORK"/unit1/objects/obj/*.00000001.slice)
flip_byte "$slice0" 4000
truncate -s 1000 "$slice1"
"$DSENC" get obj >"$WORK/out" || fail "get with corrupt slices"
cmp "$WORK/in" "$WORK/out" || fail "corrupt slices leaked into the output"
grep -q "corrupt" "$WORK/err" 2>/dev/null || true

"$DSENC" stat obj >"$WORK/stat" || fail "stat: $(cat "$WORK/stat")"
grep -E "^  0 .*(corrupt|partial)" "$WORK/stat" >/dev/null || fail "stat does not show unit 0 damaged: $(cat "$WORK/stat")"
grep -E "^  1 .*(corrupt|partial)" "$WORK/stat" >/dev/null || fail "stat does not show unit 1 damaged"
grep -q "degraded" "$WORK/stat" || fail "stat health should be degraded"
ls "$WORK"/unit0/objects/obj/*.corrupt >/dev/null || fail "corrupt slice not moved aside"

# A header field changed (not just payload) is caught too.
slice2=$(ls "$WORK"/unit2/objects/obj/*.00000002.slice)
flip_byte "$slice2" 12
"$DSENC" get obj | cmp - "$WORK/in" || fail "header damage leaked"
# Repair rebuilds the damaged slices: afterwards every unit holds every slice.
"$DSENC" repair obj >"$WORK/repair" 2>"$WORK/repair.err" || fail "repair: $(cat "$WORK/repair.err")"
grep -q "obj: 3 units repaired, 0 failed" "$WORK/repair" || fail "repair report: $(cat "$WORK/repair")"
"$DSENC" stat obj >"$WORK/stat" || fail "stat after repair"
grep -q "healthy: 6 of 6 units hold every slice" "$WORK/stat" || fail "not healthy after repair: $(cat "$WORK/stat")"
"$DSENC" get obj | cmp - "$WORK/in" || fail "object changed by repair"

# A unit that lost its whole disk comes back empty; the scrub (--all) refills it.
random_file "$WORK/in2" 300000
"$DSENC" put other "$WORK/in2"
kill_unit 4
rm -rf "$WORK/unit4"
start_unit 4
"$DSENC" repair --all >"$WORK/repair" 2>"$WORK/repair.err" || fail "repair --all: $(cat "$WORK/repair.err")"
grep -q "objects checked" "$WORK/repair.err" || fail "scrub summary: $(cat "$WORK/repair.err")"
for o in obj other; do
  "$DSENC" stat "$o" | grep -q "healthy: 6 of 6" || fail "$o not healthy after the scrub"
done
note "repair: $(cat "$WORK/repair.err")"
# Nothing to do: a second scrub repairs nothing.
"$DSENC" -v repair --all >"$WORK/repair" 2>&1
grep -q " 0 unit copies rebuilt" "$WORK/repair" || fail "second scrub: $(cat "$WORK/repair")"

# The repair rate: a unit that lost its disk refilled from the others, for an object of
# E2E_REPAIR_MIB (default 64; the README's figure uses 256).
R=${E2E_REPAIR_MIB:-64}
random_file "$WORK/big" $((R * 1024 * 1024))
"$DSENC" put big "$WORK/big"
kill_unit 2
rm -rf "$WORK/unit2"
start_unit 2
t0=$(date +%s%N)
"$DSENC" repair big >"$WORK/repair" 2>"$WORK/repair.err" || fail "repair big: $(cat "$WORK/repair.err")"
t1=$(date +%s%N)
"$DSENC" stat big | grep -q "healthy: 6 of 6" || fail "big not healthy after repair"
"$DSENC" get big | cmp -s - "$WORK/big" || fail "big changed by repair"
note "repair rate: $R MiB object, one unit refilled from scratch in $(((t1 - t0) / 1000000)) ms = $(awk -v r="$R" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", r / (ns / 1e9) }') MiB/s of object decoded"
echo "PASS bitrot"
