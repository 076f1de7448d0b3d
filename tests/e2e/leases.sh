#!/usr/bin/env bash
# Lease mode in a healthy `dsclaim --follow | dsrun` pipeline runs every function exactly once:
# claims do not wait in the pipe past their lease (dsclaim claims the next one only when dsrun
# has taken the last, and renews what it holds; dsrun reads a claim only when a job slot is
# free and renews it before starting). Functions outlast a third of the lease, so a claim left
# unrenewed in the pipe would lapse and be taken over. A kill -9 of the pipeline still brings
# its functions back: the one running and the one waiting in the pipe.
PORT_BASE=${PORT_BASE:-17360}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
start_units 5

# push_six QUEUE LOG: six functions that each append their number to LOG, then take 2 s.
push_six() {
  local i
  for i in 1 2 3 4 5 6; do
    "$DSENC" push "$1" -- sh -c "echo $i >> $2; sleep 2" >/dev/null
  done
}

# check_once LOG WHAT: each of the six functions ran exactly once.
check_once() {
  local log=$1 what=$2 total unique
  total=$(wc -l <"$log")
  unique=$(sort -u "$log" | wc -l)
  [ "$unique" = 6 ] || fail "$what: $unique distinct functions ran of 6: $(tr '\n' ' ' <"$log")"
  [ "$total" = 6 ] || fail "$what: $total runs of 6 functions: $(tr '\n' ' ' <"$log")"
}

# wait_runs LOG N SECONDS: waits until LOG has N lines.
wait_runs() {
  local deadline=$((SECONDS + $3))
  until [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; do
    [ $SECONDS -lt $deadline ] || fail "only $(wc -l <"$1") of $2 runs after $3 s"
    sleep 0.1
  done
}

for jobs in 1 4; do
  q="lq$jobs"
  log="$WORK/runs.$jobs"
  : >"$log"
  push_six "$q" "$log"
  ( "$DSCLAIM" "$q" --mode lease --lease 5 --follow | "$DSRUN" --jobs "$jobs" >"$WORK/out.$jobs" 2>&1 ) &
  pipeline=$!
  wait_runs "$log" 6 40
  # Every run finished (a re-run of a lapsed claim would show up within a lease).
  deadline=$((SECONDS + 20))
  until [ "$(grep -c '"outcome":"done"' "$WORK/out.$jobs")" -ge 6 ]; do
    [ $SECONDS -lt $deadline ] || fail "jobs $jobs: runs did not finish: $(cat "$WORK/out.$jobs")"
    sleep 0.2
  done
  sleep 5.5
  pkill -P "$pipeline" 2>/dev/null || true
  wait "$pipeline" 2>/dev/null || true
  check_once "$log" "--jobs $jobs"
  grep -q '"outcome":"lease-lost"\|"outcome":"fenced"' "$WORK/out.$jobs" &&
    fail "jobs $jobs: a run lost its lease: $(cat "$WORK/out.$jobs")"
  expect_rc 1 "$DSCLAIM" "$q" --mode lease
  note "lease --follow | dsrun --jobs $jobs: 6 functions of 2 s with a 5 s lease, each run exactly once"
done

# A claim read by dsrun before a job slot frees, or left in the pipe, would lapse here: the
# lease (1.5 s) is shorter than one function (2 s) and the pipe holds the next claim meanwhile.
log="$WORK/runs.short"
: >"$log"
push_six sq "$log"
"$DSCLAIM" sq --mode lease --lease 1.5 | "$DSRUN" >"$WORK/out.short" 2>&1 || fail "short lease: $(cat "$WORK/out.short")"
check_once "$log" "lease 1.5 s, functions of 2 s"
note "lease shorter than a function: the waiting claim is renewed by dsclaim, each run exactly once"

# --- kill -9 of the pipeline: the running function and the one in the pipe come back -----------
log="$WORK/runs.kill"
: >"$log"
push_six kq "$log"
( "$DSCLAIM" kq --mode lease --lease 3 --follow | "$DSRUN" >"$WORK/out.kill" 2>&1 ) &
pipeline=$!
wait_runs "$log" 1 20
sleep 0.5   # dsclaim has claimed the next one by now; it waits in the pipe
pkill -9 -P "$pipeline" || true
pkill -9 -f '^sleep 2$' || true
wait "$pipeline" 2>/dev/null || true
first=$(cat "$log")
sleep 3.2   # the dead pipeline's leases lapse
"$DSCLAIM" kq --mode lease --lease 5 | "$DSRUN" --jobs 4 >"$WORK/out.heir" 2>&1 || fail "heir: $(cat "$WORK/out.heir")"
[ "$(grep -c '"outcome":"done"' "$WORK/out.heir")" = 6 ] || fail "heir ran $(grep -c '"outcome":"done"' "$WORK/out.heir") of 6: $(cat "$WORK/out.heir")"
[ "$(sort -u "$log" | wc -l)" = 6 ] || fail "not every function ran: $(tr '\n' ' ' <"$log")"
[ "$(wc -l <"$log")" = 7 ] || fail "killed pipeline: expected 7 runs (the killed one twice): $(tr '\n' ' ' <"$log")"
[ "$(grep -cx "$first" "$log")" = 2 ] || fail "the killed run ($first) did not run again: $(tr '\n' ' ' <"$log")"
expect_rc 1 "$DSCLAIM" kq --mode lease
note "kill -9 of a lease pipeline: its running function ran again, the claim in the pipe came back"
