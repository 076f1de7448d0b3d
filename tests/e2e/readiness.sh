#!/usr/bin/env bash
# dsnode and systemd's readiness protocol (Type=notify, sd_notify(3)): with $NOTIFY_SOCKET set,
# dsnode sends READY=1 only once it is listening, STOPPING=1 on SIGTERM, and exits 0.
# tests/e2e/notify_listen plays systemd: it binds the socket, and the moment READY=1 arrives it
# connects to the unit's port itself, so "ready but not yet listening" cannot slip through.
# --ready-file, written at the same moment, is what the other tests wait on (lib.sh start_unit).
PORT_BASE=${PORT_BASE:-17320}
source "$(dirname "$0")/lib.sh"
LISTENER="${DSTK_TEST_HELPERS:?}/notify_listen"
[ -x "$LISTENER" ] || fail "no test helper at $LISTENER"
LISTENER_PID=""
trap '[ -n "$LISTENER_PID" ] && kill -9 "$LISTENER_PID" 2>/dev/null; cleanup' EXIT
port=$PORT_BASE
export DSTK_NODES=127.0.0.1:$port

# start_listener SOCKET: the fake systemd, output in $WORK/notify.out.
start_listener() {
  : >"$WORK/notify.out"
  "$LISTENER" "$1" "$port" 30 >"$WORK/notify.out" &
  LISTENER_PID=$!
  local tries=0
  until grep -qx bound "$WORK/notify.out"; do
    tries=$((tries + 1))
    [ $tries -lt 250 ] || fail "notify_listen did not bind $1"
    kill -0 "$LISTENER_PID" 2>/dev/null || fail "notify_listen exited before binding $1"
    sleep 0.02
  done
}

# wait_for_line LINE PID: until $WORK/notify.out has LINE (fails if PID dies first).
wait_for_line() {
  local tries=0
  until grep -qx "$1" "$WORK/notify.out"; do
    tries=$((tries + 1))
    [ $tries -lt 500 ] || fail "no $1 from dsnode within 10 s: $(cat "$WORK/notify.out")"
    kill -0 "$2" 2>/dev/null || fail "dsnode exited before $1: $(cat "$WORK/node.log")"
    sleep 0.02
  done
}

# check_unit SOCKET: a whole ready / serve / stop cycle with NOTIFY_SOCKET=SOCKET.
check_unit() {
  local sock=$1 rc=0
  note "NOTIFY_SOCKET=$sock"
  start_listener "$sock"
  rm -f "$WORK/ready"
  NOTIFY_SOCKET=$sock "$DSNODE" --dir "$WORK/unit" --listen "tcp://127.0.0.1:$port" \
    --ready-file "$WORK/ready" 2>"$WORK/node.log" &
  UNIT_PID[0]=$!
  wait_for_line READY=1 "${UNIT_PID[0]}"
  [ "$(cat "$WORK/ready")" = "tcp://127.0.0.1:$port" ] \
    || fail "--ready-file missing or wrong once READY=1 came: $(cat "$WORK/ready" 2>&1)"
  grep -qx listening=yes "$WORK/notify.out" \
    || fail "READY=1 came before the unit accepted connections: $(cat "$WORK/notify.out")"
  grep -q "^STATUS=listening on tcp://127.0.0.1:$port" "$WORK/notify.out" \
    || fail "no STATUS line with the endpoint: $(cat "$WORK/notify.out")"
  [ "$(grep -cx READY=1 "$WORK/notify.out")" = 1 ] || fail "READY=1 sent more than once"
  ! grep -qx STOPPING=1 "$WORK/notify.out" || fail "STOPPING=1 before any signal"

  # Ready means usable: a put and a get right away, with a short timeout.
  random_file "$WORK/in" 100000
  expect_rc 0 "$DSENC" -k 1 -w 1 --timeout 1 put ready/obj "$WORK/in"
  "$DSENC" -k 1 --timeout 1 get ready/obj >"$WORK/out" || fail "get after READY=1 failed"
  cmp -s "$WORK/in" "$WORK/out" || fail "get after READY=1 returned other bytes"

  kill -TERM "${UNIT_PID[0]}"
  wait "${UNIT_PID[0]}" || rc=$?
  UNIT_PID[0]=""
  [ "$rc" = 0 ] || fail "dsnode exited $rc on SIGTERM: $(cat "$WORK/node.log")"
  grep -q "stopped cleanly" "$WORK/node.log" || fail "no clean stop: $(cat "$WORK/node.log")"
  rc=0
  wait "$LISTENER_PID" || rc=$?
  LISTENER_PID=""
  [ "$rc" = 0 ] || fail "no STOPPING=1 after SIGTERM (listener exit $rc): $(cat "$WORK/notify.out")"
  [ "$(grep -nx READY=1 "$WORK/notify.out" | cut -d: -f1)" -lt \
    "$(grep -nx STOPPING=1 "$WORK/notify.out" | cut -d: -f1)" ] || fail "STOPPING=1 before READY=1"
  ! grep -q "cannot tell systemd" "$WORK/node.log" || fail "dsnode warned: $(cat "$WORK/node.log")"
}

check_unit "$WORK/notify.sock"        # a path, as systemd gives a Type=notify service
check_unit "@dstk-e2e-notify-$$-$RANDOM"  # an abstract socket name

note "no READY=1 when the unit cannot listen (port taken)"
start_unit 0
start_listener "$WORK/notify2.sock"
rc=0
NOTIFY_SOCKET=$WORK/notify2.sock "$DSNODE" --dir "$WORK/unit-b" \
  --listen "tcp://127.0.0.1:$port" --ready-file "$WORK/ready-b" 2>"$WORK/node-b.log" || rc=$?
[ "$rc" = 6 ] || fail "dsnode on a taken port exited $rc, expected 6: $(cat "$WORK/node-b.log")"
sleep 0.2
! grep -qx READY=1 "$WORK/notify.out" || fail "READY=1 although the bind failed"
[ ! -e "$WORK/ready-b" ] || fail "--ready-file written although the bind failed"
kill_unit 0 TERM
{ kill -9 "$LISTENER_PID" && wait "$LISTENER_PID"; } 2>/dev/null || true
LISTENER_PID=""

note "a NOTIFY_SOCKET nobody listens on: a warning, the unit still serves and stops cleanly"
rm -f "$WORK/ready"
NOTIFY_SOCKET=$WORK/nobody.sock "$DSNODE" --dir "$WORK/unit" --listen "tcp://127.0.0.1:$port" \
  --ready-file "$WORK/ready" 2>"$WORK/node.log" &
UNIT_PID[0]=$!
tries=0
until [ -s "$WORK/ready" ]; do
  tries=$((tries + 1))
  [ $tries -lt 500 ] || fail "dsnode did not start: $(cat "$WORK/node.log")"
  sleep 0.02
done
"$DSENC" -k 1 --timeout 1 get ready/obj >"$WORK/out" || fail "get without a systemd listener failed"
cmp -s "$WORK/in" "$WORK/out" || fail "get returned other bytes"
kill -TERM "${UNIT_PID[0]}"
rc=0
wait "${UNIT_PID[0]}" || rc=$?
UNIT_PID[0]=""
[ "$rc" = 0 ] || fail "dsnode exited $rc on SIGTERM: $(cat "$WORK/node.log")"
grep -q "warn: cannot tell systemd we are ready" "$WORK/node.log" \
  || fail "no warning about the unreachable NOTIFY_SOCKET: $(cat "$WORK/node.log")"
echo "readiness: ok"
