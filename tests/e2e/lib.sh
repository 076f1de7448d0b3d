# Shared helpers for the end-to-end tests: start real dsnode processes on loopback in a temp
# dir, drive the real binaries, clean everything up on exit. Sourced, not run.
#   DSTK_BIN   directory holding dsenc/ dsnode/ ... build subdirectories (set by ctest)
#   PORT_BASE  first port of this test's units (each test uses its own range)
#   PORT_SPAN  how many ports from PORT_BASE the test uses (default 10)
set -euo pipefail

: "${DSTK_BIN:?DSTK_BIN must point at the tools directory of a build}"
DSENC="$DSTK_BIN/dsenc/dsenc"
DSNODE="$DSTK_BIN/dsnode/dsnode"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dstk-e2e.XXXXXX")

# Another run (a second checkout, a sanitizer build) may hold this test's ports: move up by
# 1000 until PORT_BASE..PORT_BASE+PORT_SPAN-1 are all free (nothing accepts a connection there).
port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for ((shift_ = 0; shift_ < 20; shift_++)); do
  busy=0
  for ((p = PORT_BASE; p < PORT_BASE + ${PORT_SPAN:-10}; p++)); do port_busy "$p" && busy=1 && break; done
  [ "$busy" = 0 ] && break
  PORT_BASE=$((PORT_BASE + 1000))
done
declare -a UNIT_PID=()
declare -a UNIT_PORT=()

cleanup() {
  local p
  for p in "${UNIT_PID[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  # A test that failed may leave background pipelines (dsclaim --follow | dsrun) running; stop
  # them and their children, or the wait below would wait for ever.
  for p in $(jobs -p); do
    pkill -9 -P "$p" 2>/dev/null || true
    kill -9 "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "-- $*" >&2; }

# start_unit I [OPTION...]: starts unit I (its dir, port PORT_BASE+I; more dsnode options when
# given) and waits until it is ready: dsnode writes its --ready-file once the port is bound.
start_unit() {
  local i=$1 port=$((PORT_BASE + $1))
  UNIT_PORT[$i]=$port
  : >"$WORK/unit$i.log.new"
  rm -f "$WORK/unit$i.ready"
  "$DSNODE" --dir "$WORK/unit$i" --listen "tcp://127.0.0.1:$port" \
    --ready-file "$WORK/unit$i.ready" "${@:2}" 2>>"$WORK/unit$i.log.new" &
  UNIT_PID[$i]=$!
  wait_ready "$i" 200
}

# wait_ready I TRIES: waits (TRIES x 20 ms at most) until unit I, started with
# --ready-file $WORK/unitI.ready, wrote that file, failing if it exits first; then keeps its
# start-up log.
wait_ready() {
  local i=$1 tries=0
  until [ -s "$WORK/unit$i.ready" ]; do
    tries=$((tries + 1))
    [ $tries -lt "$2" ] || fail "unit $i did not start: $(cat "$WORK/unit$i.log.new")"
    kill -0 "${UNIT_PID[$i]}" 2>/dev/null || fail "unit $i exited: $(cat "$WORK/unit$i.log.new")"
    sleep 0.02
  done
  cat "$WORK/unit$i.log.new" >>"$WORK/unit$i.log"
}

# start_units N: N units on PORT_BASE.., their node list in $WORK/nodes and in DSTK_NODES.
start_units() {
  local n=$1 i
  : >"$WORK/nodes"
  DSTK_NODES=""
  for ((i = 0; i < n; i++)); do
    start_unit "$i"
    echo "tcp://127.0.0.1:$((PORT_BASE + i))" >>"$WORK/nodes"
    DSTK_NODES="${DSTK_NODES:+$DSTK_NODES,}127.0.0.1:$((PORT_BASE + i))"
  done
  export DSTK_NODES
}

# kill_unit I [SIGNAL]: stops unit I (default SIGKILL) and waits for it to be gone.
kill_unit() {
  local i=$1 sig=${2:-KILL}
  kill -"$sig" "${UNIT_PID[$i]}" 2>/dev/null || true
  wait "${UNIT_PID[$i]}" 2>/dev/null || true
  UNIT_PID[$i]=""
}

# expect_rc WANT CMD...: runs CMD (stderr to $WORK/err), fails unless it exits WANT.
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" 2>"$WORK/err" || rc=$?
  [ "$rc" = "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$WORK/err")"
}

# flip_byte FILE OFFSET: changes one byte of FILE in place.
flip_byte() {
  local file=$1 off=$2 old new
  old=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
  new=$(((old + 1) % 256))
  printf "$(printf '\\%03o' "$new")" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# random_file PATH BYTES
random_file() { head -c "$2" /dev/urandom >"$1"; }
