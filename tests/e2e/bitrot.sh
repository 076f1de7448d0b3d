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
echo "PASS bitrot"
