#!/usr/bin/env bash
# CurveZMQ: units with a key pair and an allow-list serve only allowed clients; a client
# without an allowed key gets nothing done (nothing read, nothing written); without keys a
# unit refuses to bind anything but loopback unless told so by a flag that says it is insecure.
PORT_BASE=${PORT_BASE:-17280}
source "$(dirname "$0")/lib.sh"

"$DSENC" keygen "$WORK/client.key" >"$WORK/client.pub.out" || fail "keygen"
[ "$(stat -c %a "$WORK/client.key")" = 600 ] || fail "secret key file is not 0600"
cmp -s <(tr -d '\n' <"$WORK/client.key.pub") <(tr -d '\n' <"$WORK/client.pub.out") || fail "keygen printed another key"
expect_rc 6 "$DSENC" keygen "$WORK/client.key"   # never overwrites a key
"$DSENC" keygen "$WORK/stranger.key" >/dev/null
cp "$WORK/client.key.pub" "$WORK/allow"

: >"$WORK/nodes"
for i in 0 1 2; do
  "$DSENC" keygen "$WORK/unit$i.key" >/dev/null
  "$DSNODE" --dir "$WORK/unit$i" --listen "tcp://127.0.0.1:$((PORT_BASE + i))" \
    --key "$WORK/unit$i.key" --allow "$WORK/allow" 2>"$WORK/unit$i.log" &
  UNIT_PID[$i]=$!
  echo "tcp://127.0.0.1:$((PORT_BASE + i)) $(cat "$WORK/unit$i.key.pub")" >>"$WORK/nodes"
done
sleep 0.4
grep -q "CurveZMQ on" "$WORK/unit0.log" || fail "unit did not turn CurveZMQ on: $(cat "$WORK/unit0.log")"
unset DSTK_NODES
echo "secret data" >"$WORK/in"
"$DSENC" --nodes "$WORK/nodes" --key "$WORK/client.key" put s "$WORK/in" || fail "allowed client put: $(cat "$WORK"/unit*.log)"
[ "$(DSTK_KEY="$WORK/client.key" "$DSENC" --nodes "$WORK/nodes" get s)" = "secret data" ] || fail "allowed client get"

# A stranger's key and no key at all: refused by every unit, nothing done.
expect_rc 3 "$DSENC" --nodes "$WORK/nodes" --key "$WORK/stranger.key" --timeout 0.5 get s
expect_rc 3 "$DSENC" --nodes "$WORK/nodes" --timeout 0.5 get s
expect_rc 3 "$DSENC" --nodes "$WORK/nodes" --key "$WORK/stranger.key" --timeout 0.5 put s "$WORK/in"
grep -q "refused a client whose key is not allowed" "$WORK/unit0.log" || fail "refusal not logged"
# The wire carries no plaintext: the unit's key mismatching the node list fails too.
# (A key per line: one key on two lines would be one unit listed twice, refused outright.)
: >"$WORK/wrong-nodes"
while read -r ep _; do
  "$DSENC" keygen "$WORK/wrong.$(wc -l <"$WORK/wrong-nodes").key" >/dev/null
  echo "$ep $(cat "$WORK/wrong.$(wc -l <"$WORK/wrong-nodes").key.pub")" >>"$WORK/wrong-nodes"
done <"$WORK/nodes"
expect_rc 3 "$DSENC" --nodes "$WORK/wrong-nodes" --key "$WORK/client.key" --timeout 0.5 get s
[ "$(DSTK_KEY="$WORK/client.key" "$DSENC" --nodes "$WORK/nodes" get s)" = "secret data" ] || fail "object harmed"

# Without keys: loopback only unless --insecure-listen-any.
expect_rc 2 "$DSNODE" --dir "$WORK/open" --listen "tcp://0.0.0.0:$((PORT_BASE + 9))"
grep -q "insecure-listen-any" "$WORK/err" || fail "refusal does not name the flag"
expect_rc 2 "$DSNODE" --dir "$WORK/open" --key "$WORK/unit0.key"   # a key without an allow-list
note "CurveZMQ: allowed client served; stranger, keyless and wrong-server-key clients refused"
echo "PASS security"
