#!/usr/bin/env bash
# split | join round-trips byte for byte, with any n-k records per segment dropped, in any
# order; a stream with too few records or a damaged one fails with exit 4.
PORT_BASE=${PORT_BASE:-17160}
source "$(dirname "$0")/lib.sh"
random_file "$WORK/in" $((5 * 1024 * 1024 + 3))
"$DSENC" --segment-size 1048576 split -k 3 -n 5 "$WORK/in" >"$WORK/s"
"$DSENC" join <"$WORK/s" | cmp - "$WORK/in" || fail "split|join"
cat "$WORK/in" | "$DSENC" split -k 3 -n 5 | "$DSENC" join | cmp - "$WORK/in" || fail "piped split|join"

"$DSENC" inspect <"$WORK/s" >"$WORK/json"
[ "$(grep -c '"type":"slice"' "$WORK/json")" = 30 ] || fail "expected 6 segments x 5 slices"
[ "$(grep -c '"type":"object"' "$WORK/json")" = 1 ] || fail "expected one object record"
grep -q '"data":{"bytes":349526,"crc32c":"' "$WORK/json" || fail "inspect shows payload as size+crc"

# Keep only slices whose pillar is in KEEP (k=3 of 5) for every segment, shuffled: rebuild by
# hand from inspect's line numbers, since records are self-delimiting msgpack we re-split.
for keep in "0 1 2" "2 3 4" "0 2 4" "1 3 4"; do
  # dsenc has no filter, so drop records with a small awk over a re-split per pillar.
  : >"$WORK/kept"
  n=0
  while IFS= read -r line; do
    idx=$(echo "$line" | sed -n 's/.*"idx":\([0-9]*\).*/\1/p')
    case " $keep " in *" $idx "*) echo "$n" >>"$WORK/kept" ;; esac
    n=$((n + 1))
  done <"$WORK/json"
  "$DSTK_TEST_HELPERS/record_filter" "$WORK/kept" <"$WORK/s" >"$WORK/part" || fail "record_filter"
  "$DSENC" join <"$WORK/part" | cmp - "$WORK/in" || fail "join with pillars {$keep} only"
  "$DSTK_TEST_HELPERS/record_filter" --shuffle "$WORK/kept" <"$WORK/s" >"$WORK/part"
  "$DSENC" join <"$WORK/part" | cmp - "$WORK/in" || fail "join shuffled with pillars {$keep}"
done
note "join with n-k records per segment dropped, in order and shuffled: ok"

# Only k-1 pillars: exit 4 with the segment named.
seq 0 29 | awk '$1 % 5 < 2' >"$WORK/kept"
"$DSTK_TEST_HELPERS/record_filter" "$WORK/kept" <"$WORK/s" >"$WORK/part"
expect_rc 4 "$DSENC" join <"$WORK/part"
grep -q "segment 0 has 2 intact slices, need k=3" "$WORK/err" || fail "k-1: $(cat "$WORK/err")"

# Garbage and truncation are integrity errors, never a crash.
head -c 1000 /dev/urandom >"$WORK/garbage"
expect_rc 4 "$DSENC" join <"$WORK/garbage"
head -c 100000 "$WORK/s" >"$WORK/trunc"
expect_rc 4 "$DSENC" join <"$WORK/trunc"
expect_rc 4 "$DSENC" inspect <"$WORK/trunc"
expect_rc 2 "$DSENC" split -k 4 -n 3 "$WORK/in"

# A regular file is mapped a segment at a time (util/segment_reader.h): one cut shorter while
# split reads it is a clear error (exit 6), never a crash or a stream that claims to be whole.
# The reader of the stream waits first, so split is blocked in its first write when the file
# is cut.
random_file "$WORK/shrinks" $((64 * 1024 * 1024))
( rc=0; "$DSENC" split -k 2 -n 3 "$WORK/shrinks" 2>"$WORK/err" || rc=$?; echo "$rc" >"$WORK/rc" ) |
  ( sleep 1; cat >"$WORK/cut.stream" ) &
reader=$!
sleep 0.2
truncate -s 100000 "$WORK/shrinks"
wait "$reader"
[ "$(cat "$WORK/rc")" = 6 ] || fail "split of a file cut while read exited $(cat "$WORK/rc"): $(cat "$WORK/err")"
grep -q "cut shorter while" "$WORK/err" || fail "no clear message: $(cat "$WORK/err")"
expect_rc 4 "$DSENC" join <"$WORK/cut.stream"   # no object record at the end: not whole
# A file whose segments map page by page round-trips, and one read from an offset does too.
random_file "$WORK/mapped" $((9 * 1024 * 1024 + 5))
"$DSENC" split -k 3 -n 5 "$WORK/mapped" | "$DSENC" join | cmp - "$WORK/mapped" || fail "mapped split"
( head -c 4096 >/dev/null; "$DSENC" split -k 3 -n 5 ) <"$WORK/mapped" | "$DSENC" join |
  cmp - <(tail -c +4097 "$WORK/mapped") || fail "split of a file from an offset"
# Several threads split a file side by side (stream/split.cc) and still write one stream, in
# order: the same records as one thread writes (but for the revision and the header CRC that
# covers it), for files of one short segment, exact multiples and many segments.
strip() { "$DSENC" inspect | sed -e 's/"rev":[0-9]*//' -e 's/"crc":[0-9]*//'; }
for size in 0 1 65535 65536 $((65536 * 40)) $((65536 * 77 + 1234)); do
  random_file "$WORK/t" "$size"
  "$DSENC" --segment-size 65536 split -k 3 -n 5 --threads 1 "$WORK/t" | strip >"$WORK/t1.json"
  for t in 2 3 8; do
    "$DSENC" --segment-size 65536 split -k 3 -n 5 --threads "$t" "$WORK/t" >"$WORK/t.s"
    "$DSENC" join <"$WORK/t.s" | cmp - "$WORK/t" || fail "split --threads $t of $size bytes"
    strip <"$WORK/t.s" | cmp -s - "$WORK/t1.json" || fail "--threads $t wrote another stream"
  done
done
expect_rc 2 "$DSENC" split -k 3 -n 5 --threads 0 "$WORK/t"
note "split with 1, 2, 3 and 8 threads: the same stream"
echo "PASS streams"
