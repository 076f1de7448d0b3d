#!/usr/bin/env bash
# Signed functions, with CurveZMQ on: a worker with --trust runs only functions signed by a key
# it trusts. Unsigned ones, ones signed by an unknown key and ones altered after signing (a
# record rewritten and stored under a new key, as a unit or a client could) go to QUEUE.failed
# with the reason and never start; a trusted signed one runs. In lease mode too. A worker
# without --trust runs unsigned functions, as before.
PORT_BASE=${PORT_BASE:-17480}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"

# --- signing keys ---------------------------------------------------------------------------
"$DSENC" keygen --sign "$WORK/alice" >"$WORK/alice.out" || fail "keygen --sign"
[ "$(stat -c %a "$WORK/alice")" = 600 ] || fail "the signing key is not 0600"
cmp -s "$WORK/alice.out" "$WORK/alice.pub" || fail "keygen --sign printed another key than FILE.pub"
grep -qx '[0-9a-f]\{64\}' "$WORK/alice.pub" || fail "public key is not 64 hex digits: $(cat "$WORK/alice.pub")"
expect_rc 6 "$DSENC" keygen --sign "$WORK/alice"  # never overwrites a key
"$DSENC" keygen --sign "$WORK/mallory" >/dev/null
{ echo "# who may run commands on this worker"; cat "$WORK/alice.pub"; } >"$WORK/trust"
echo "not-a-key" >"$WORK/bad.trust"
expect_rc 2 "$DSRUN" --trust "$WORK/bad.trust" </dev/null
grep -q "bad.trust:1: not an Ed25519 public key" "$WORK/err" || fail "bad trust file: $(cat "$WORK/err")"
"$DSENC" keygen "$WORK/curve.key" >/dev/null  # a CurveZMQ key is not a signing key
echo x | expect_rc 2 "$DSENC" push q --sign "$WORK/curve.key" -- true

# --- six units with CurveZMQ keys --------------------------------------------------------------
"$DSENC" keygen "$WORK/client.key" >/dev/null
cp "$WORK/client.key.pub" "$WORK/allow"
: >"$WORK/nodes"
for i in 0 1 2 3 4 5; do
  "$DSENC" keygen "$WORK/unit$i.key" >/dev/null
  start_unit "$i" --key "$WORK/unit$i.key" --allow "$WORK/allow"
  echo "tcp://127.0.0.1:$((PORT_BASE + i)) $(cat "$WORK/unit$i.key.pub")" >>"$WORK/nodes"
done
unset DSTK_NODES
export DSTK_KEY="$WORK/client.key"
C=(--nodes "$WORK/nodes")

# Each command leaves a marker if it ever runs.
mark() { echo "touch $WORK/ran.$1"; }
"$DSENC" "${C[@]}" push q -- sh -c "$(mark unsigned)" >/dev/null || fail "push unsigned"
"$DSENC" "${C[@]}" push q --sign "$WORK/mallory" -- sh -c "$(mark mallory)" >/dev/null || fail "push mallory"
"$DSENC" "${C[@]}" push q --sign "$WORK/alice" --out out/alice -- sh -c "$(mark alice); echo trusted" \
  >/dev/null || fail "push alice"
# Altered after signing: alice's record for "echo SAFE" rewritten to "echo EVIL" (same length,
# so the record stays well-formed) and stored under a new key of the queue; the original goes.
key=$("$DSENC" "${C[@]}" push q --sign "$WORK/alice" -- sh -c "$(mark SAFE)") || fail "push to alter"
"$DSENC" "${C[@]}" get "$key" >"$WORK/record" || fail "get $key"
grep -q "ran.SAFE" "$WORK/record" || fail "the record does not hold its command"
sed 's/ran\.SAFE/ran.EVIL/' "$WORK/record" >"$WORK/altered"
"$DSENC" "${C[@]}" rm "$key" || fail "rm $key"
"$DSENC" "${C[@]}" put "q/ffffffffffffffff-00000000" "$WORK/altered" || fail "put the altered record"

rc=0
"$DSCLAIM" "${C[@]}" q | "$DSRUN" "${C[@]}" --trust "$WORK/trust" >"$WORK/results" 2>"$WORK/run.err" || rc=$?
[ "$rc" = 5 ] || fail "dsrun exited $rc, expected 5 (functions not run): $(cat "$WORK/run.err")"
[ "$(grep -c '"outcome":"done"' "$WORK/results")" = 1 ] || fail "one function should run: $(cat "$WORK/results")"
[ "$(grep -c '"outcome":"dead-lettered"' "$WORK/results")" = 3 ] || fail "three should be dead-lettered: $(cat "$WORK/results")"
grep -q 'not run: unsigned function' "$WORK/results" || fail "unsigned: $(cat "$WORK/results")"
grep -q 'not run: signed by a key not in the trust file' "$WORK/results" || fail "unknown key: $(cat "$WORK/results")"
grep -q 'not run: bad signature' "$WORK/results" || fail "altered: $(cat "$WORK/results")"
[ -e "$WORK/ran.alice" ] || fail "the trusted function did not run"
for who in unsigned mallory EVIL SAFE; do
  [ ! -e "$WORK/ran.$who" ] || fail "the $who function ran"
done
[ "$("$DSENC" "${C[@]}" get out/alice)" = trusted ] || fail "the trusted function's output"
"$DSCLAIM" "${C[@]}" --list q.failed >"$WORK/failed" || fail "nothing in q.failed"
[ "$(wc -l <"$WORK/failed")" = 3 ] || fail "q.failed holds $(wc -l <"$WORK/failed"), expected 3"
while read -r k; do
  "$DSENC" "${C[@]}" get "$k" | grep -q "not run: " || fail "dead letter $k lacks its reason"
done <"$WORK/failed"
expect_rc 1 "$DSCLAIM" "${C[@]}" q  # nothing left
note "trusted: ran; unsigned, unknown key, altered: dead-lettered with the reason, never started"

# Lease mode: refused functions are dead-lettered and finished (gone from the queue).
"$DSENC" "${C[@]}" push ql -- sh -c "$(mark lease-unsigned)" >/dev/null
"$DSENC" "${C[@]}" push ql --sign "$WORK/alice" -- sh -c "$(mark lease-alice)" >/dev/null
"$DSCLAIM" "${C[@]}" ql --mode lease --lease 5 | "$DSRUN" "${C[@]}" --trust "$WORK/trust" >"$WORK/lresults" 2>&1 || true
grep -q '"outcome":"dead-lettered".*not run: unsigned function' "$WORK/lresults" || fail "lease: $(cat "$WORK/lresults")"
[ -e "$WORK/ran.lease-alice" ] && [ ! -e "$WORK/ran.lease-unsigned" ] || fail "lease mode ran the wrong ones"
expect_rc 1 "$DSCLAIM" "${C[@]}" ql
note "lease mode: the same, and the refused function is finished"

# Without --trust every function runs, signed or not.
"$DSENC" "${C[@]}" push qo -- sh -c "$(mark open)" >/dev/null
"$DSCLAIM" "${C[@]}" qo | "$DSRUN" "${C[@]}" >/dev/null 2>&1 || fail "dsrun without --trust"
[ -e "$WORK/ran.open" ] || fail "without --trust an unsigned function should run"
echo "PASS"
