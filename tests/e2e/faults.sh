#!/usr/bin/env bash
# Faults on one unit: a slow unit (SIGSTOP) never stalls a client past its deadline; a full
# disk (a 1 MiB tmpfs) makes that unit answer no_space while the put succeeds on the others
# and nothing already stored is harmed; a unit that cannot write its claim journal answers
# no_space to claims (never ok), claims go on with the others, and it catches up once it can.
PORT_BASE=${PORT_BASE:-17240}
source "$(dirname "$0")/lib.sh"
start_units 6   # k=4, w=5

# --- a stopped unit ----------------------------------------------------------------------------------
random_file "$WORK/in" $((2 * 1024 * 1024))
"$DSENC" put before "$WORK/in"
kill -STOP "${UNIT_PID[2]}"
start=$(date +%s%N)
"$DSENC" --timeout 0.5 put during "$WORK/in" || fail "put with one unit stopped"
"$DSENC" --timeout 0.5 get before | cmp - "$WORK/in" || fail "get with one unit stopped"
ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "${UNIT_PID[2]}"
# Two operations, each waits at most one 0.5 s deadline per round for the stopped unit.
[ "$ms" -lt 4000 ] || fail "a stopped unit stalled the client for $ms ms"
"$DSENC" get during | cmp - "$WORK/in" || fail "object put during the stop"
note "SIGSTOP: put + get with a stopped unit took $ms ms (deadline 0.5 s)"

# --- a full disk on one unit -------------------------------------------------------------------------
[ "$(id -u)" = 0 ] || fail "the disk-full test needs root (mount -t tmpfs)"
kill_unit 5
mkdir -p "$WORK/small"
mount -t tmpfs -o size=1m tmpfs "$WORK/small" || fail "cannot mount a tmpfs"
trap 'umount -l "$WORK/small" 2>/dev/null; cleanup' EXIT
UNIT_DIR5="$WORK/small/unit5"
"$DSNODE" --dir "$UNIT_DIR5" --listen "tcp://127.0.0.1:$((PORT_BASE + 5))" 2>"$WORK/unit5.log" &
UNIT_PID[5]=$!
sleep 0.3
echo "small object" | "$DSENC" put small || fail "small put"
random_file "$WORK/big" $((8 * 1024 * 1024))
"$DSENC" put big "$WORK/big" 2>"$WORK/err" || fail "put with one unit full: $(cat "$WORK/err")"
grep -q "no_space" "$WORK/unit5.log" "$WORK/err" 2>/dev/null || grep -qi "space" "$WORK/unit5.log" ||
  fail "the full unit did not report no space: $(cat "$WORK/unit5.log")"
"$DSENC" get big | cmp - "$WORK/big" || fail "big not readable"
[ "$("$DSENC" get small)" = "small object" ] || fail "the full disk harmed an object already stored"
"$DSENC" stat small | grep -q "healthy: 6 of 6" || fail "small lost a slice on the full unit"
[ -z "$(find "$UNIT_DIR5" -name '.tmp.*')" ] || fail "temp files left on the full unit"
# The put says which unit it left out, why, and what restores the redundancy.
grep -q "put big: left out unit 5 .*no_space" "$WORK/err" || fail "put did not say unit 5 was left out: $(cat "$WORK/err")"
grep -q "stored on 5 of 6 units; \`dsenc repair big\`" "$WORK/err" || fail "put did not point at repair: $(cat "$WORK/err")"
expect_rc 0 "$DSENC" -q put big2 "$WORK/big"
[ ! -s "$WORK/err" ] || fail "-q put still spoke: $(cat "$WORK/err")"
# What the full unit took of the put is not left there unpublished.
no_slices_of() {
  for _ in $(seq 1 40); do
    [ -z "$(find "$UNIT_DIR5/objects/$1" -type f 2>/dev/null)" ] && return 0
    sleep 0.05
  done
  fail "unit 5 keeps files of $1: $(find "$UNIT_DIR5/objects/$1" -type f | head -3) ($(du -sh "$UNIT_DIR5" | cut -f1) used)"
}
no_slices_of big
# A repair that cannot fill the full unit says why, and leaves nothing behind there either.
expect_rc 3 "$DSENC" repair big
grep -q "repair big: unit 5 (tcp://[^)]*): no_space" "$WORK/err" || fail "failed repair gave no reason: $(cat "$WORK/err")"
no_slices_of big
"$DSENC" get big | cmp - "$WORK/big" || fail "big not readable after the failed repair"
note "disk full: unit 5 refused with no_space, the put succeeded on 5 units and said so, earlier objects intact; a failed repair names the reason and leaves no slices"

# --- claims on a unit that cannot write its claim journal --------------------------------------------
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
fullq_key=$("$DSENC" push fullq -- echo hi) || fail "push"
"$DSENC" stat "$fullq_key" | grep -qE "^ +5 +tcp://[^ ]+ +ok +1/1 slices" ||
  fail "the function did not reach unit 5: $("$DSENC" stat "$fullq_key")"
dd if=/dev/zero of="$UNIT_DIR5/filler" bs=4k 2>/dev/null || true   # fill the disk (ENOSPC ends it)
"$DSCLAIM" fullq --json >"$WORK/claimed.full" 2>"$WORK/err" || fail "claim with unit 5 full: $(cat "$WORK/err")"
grep -q '"key":"fullq/' "$WORK/claimed.full" || fail "no claim record: $(cat "$WORK/claimed.full")"
grep -q "claim journal" "$WORK/unit5.log" || fail "unit 5 did not report its journal write: $(cat "$WORK/unit5.log")"
[ ! -s "$UNIT_DIR5/claims.journal" ] || fail "unit 5 wrote a journal on a full disk"
rm -f "$UNIT_DIR5/filler"
# The unit retries the flush about once a second by itself, with no claim request to prompt it.
for _ in $(seq 1 100); do [ -s "$UNIT_DIR5/claims.journal" ] && break; sleep 0.05; done
[ -s "$UNIT_DIR5/claims.journal" ] || fail "unit 5 did not write its journal once it had space"
expect_rc 1 "$DSCLAIM" fullq   # consumed everywhere: nothing to claim
[ -z "$("$DSCLAIM" --list fullq)" ] || fail "the consumed function is still listed"
note "journal on a full disk: unit 5 answered no_space to claims, the claim was won on the others, unit 5 caught up"
echo "PASS faults"
