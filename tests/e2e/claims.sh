#!/usr/bin/env bash
# The work queue end to end on 5 units (k=3, q=3): push order, contention in consume mode
# (every function executed exactly once, none lost), lease mode with a worker killed -9 (the
# function runs again after the lease, its output stored once, the dead owner's late write
# fenced), a unit restarted during a held lease (no second owner), tolerance at n-q.
#   E2E_CLAIM_FUNCTIONS (default 2000) and E2E_CLAIM_WORKERS (default 8) size the contention run.
PORT_BASE=${PORT_BASE:-17220}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
start_units 5
export DSTK_NODES

# finish_pipelines RAN N WHAT: stops the pipelines in pids[] once every one of N functions has
# had time to show a (wrong) second run, then checks that RAN lists each of them exactly once.
finish_pipelines() {
  local ran=$1 n=$2 what=$3 p total unique
  sleep 1   # let any (wrong) duplicate run show up before counting
  for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  total=$(wc -l <"$ran")
  unique=$(sort -u "$ran" | wc -l)
  [ "$total" = "$n" ] || fail "$what: $total executions for $n functions (duplicates: $((total - unique)))"
  [ "$unique" = "$n" ] || fail "$what: only $unique distinct functions ran of $n"
}

# --- order: several producers, one worker, claims come in push order ---------------------------
for i in $(seq 1 12); do
  "$DSENC" push order -- echo "$i" >>"$WORK/pushed"   # each push is its own producer process
done
"$DSCLAIM" --list order >"$WORK/listed"
cmp "$WORK/pushed" "$WORK/listed" || fail "queue listing is not in push order"
"$DSCLAIM" order --json | sed 's/.*"key":"\([^"]*\)".*/\1/' >"$WORK/claimed"
cmp "$WORK/pushed" "$WORK/claimed" || fail "claims are not in push order"
expect_rc 1 "$DSCLAIM" order
note "order: 12 functions from 12 producers claimed in push order; empty queue exits 1"

# --- a held key is skipped without a round (list replies mark it locked) -------------------------
"$DSENC" push held -- echo first >"$WORK/held.keys"
"$DSENC" push held -- echo second >>"$WORK/held.keys"
# A lease-mode claim of the first key, never run: its lease holds it for 30 s.
"$DSCLAIM" held --mode lease --lease 30 --max 1 --json >"$WORK/held.lease"
grep -qF "\"key\":\"$(sed -n 1p "$WORK/held.keys")\"" "$WORK/held.lease" || fail "lease claim: $(cat "$WORK/held.lease")"
"$DSCLAIM" held --max 1 --json --trace >"$WORK/held.out" 2>"$WORK/held.trace"
grep -qF "\"key\":\"$(sed -n 2p "$WORK/held.keys")\"" "$WORK/held.out" || fail "the free key was not claimed: $(cat "$WORK/held.out")"
if grep -F "lock_read_delete $(sed -n 1p "$WORK/held.keys")" "$WORK/held.trace"; then
  fail "a round was spent on the key a lease holds"
fi
note "held key: the listing marks it locked; the next claimer goes straight to the free key"

# --- push --from: batches keep push order; a slow producer's line is pushed at once -------------
for i in $(seq 1 300); do printf '{"argv":["echo","%s"]}\n' "$i"; done >"$WORK/many"
"$DSENC" push many --from "$WORK/many" >"$WORK/many.keys" || fail "push --from (300 lines)"
[ "$(wc -l <"$WORK/many.keys")" = 300 ] || fail "push --from printed $(wc -l <"$WORK/many.keys") keys for 300 lines"
sort -c "$WORK/many.keys" || fail "push --from printed keys out of push order"
"$DSCLAIM" --list many >"$WORK/many.listed"
cmp "$WORK/many.keys" "$WORK/many.listed" || fail "the queue does not hold exactly the keys push --from printed"
mkfifo "$WORK/slow"
"$DSENC" push slow --from "$WORK/slow" >"$WORK/slow.keys" 2>"$WORK/slow.err" &
slow_pid=$!
exec 7>"$WORK/slow"
echo '{"argv":["true"]}' >&7
for _ in $(seq 100); do [ -s "$WORK/slow.keys" ] && break; sleep 0.05; done
[ "$(wc -l <"$WORK/slow.keys")" = 1 ] || fail "push --from held a line back waiting for more input"
echo '{"argv":["true"]}' >&7
exec 7>&-
wait "$slow_pid" || fail "push --from a fifo: $(cat "$WORK/slow.err")"
[ "$(wc -l <"$WORK/slow.keys")" = 2 ] || fail "push --from a fifo printed $(wc -l <"$WORK/slow.keys") keys for 2 lines"
note "push --from: 300 lines in push order, queued exactly; a slow producer's line pushed at once"
# A unit that takes only 2 requests at a time from one client answers the rest of a batch busy;
# push sends those again, so every function is still pushed (and the unit logged the refusals).
kill_unit 0
start_unit 0 --max-inflight 2
"$DSENC" push busyq --from "$WORK/many" >"$WORK/busy.keys" || fail "push --from to a unit with --max-inflight 2"
[ "$(wc -l <"$WORK/busy.keys")" = 300 ] || fail "push --from with busy replies printed $(wc -l <"$WORK/busy.keys") keys"
cat "$WORK/unit0.log" "$WORK/unit0.log.new" | grep -q "busy" || fail "unit 0 with --max-inflight 2 refused nothing: the test tests nothing"
"$DSENC" stat "$(tail -1 "$WORK/busy.keys")" | grep -q "healthy: 5 of 5" || fail "unit 0 missed functions it answered busy"
kill_unit 0
start_unit 0
note "push --from: 300 functions to a unit answering busy past 2 requests; all pushed, all units hold them"

# --- contention, consume mode ---------------------------------------------------------------------
N=${E2E_CLAIM_FUNCTIONS:-2000}
W=${E2E_CLAIM_WORKERS:-8}
ran=$WORK/ran
: >"$ran"
for i in $(seq 1 "$N"); do
  printf '{"argv":["sh","-c","echo %s >> %s"]}\n' "$i" "$ran"
done >"$WORK/functions"
t0=$(date +%s.%N)
"$DSENC" push work --from "$WORK/functions" >/dev/null || fail "push --from"
t1=$(date +%s.%N)
pids=()
for w in $(seq 1 "$W"); do
  ( "$DSCLAIM" work --follow 2>>"$WORK/claim.err" | "$DSRUN" --worker "w$w" >>"$WORK/results.$w" 2>>"$WORK/run.err" ) &
  pids+=($!)
done
deadline=$((SECONDS + 600))
until [ "$(wc -l <"$ran")" -ge "$N" ] && [ -z "$("$DSCLAIM" --list work 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || fail "contention run did not finish: $(wc -l <"$ran") of $N ran"
  sleep 0.5
done
t2=$(date +%s.%N)
finish_pipelines "$ran" "$N" contention
workers_used=$(cat "$WORK"/results.* | sed 's/.*"worker":"\([^"]*\)".*/\1/' | sort -u | wc -l)
note "contention: $N functions, $W workers: each executed exactly once; $workers_used workers won some"
note "  push $(awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / (b - a) }') functions/s, claim+run $(awk -v n="$N" -v a="$t1" -v b="$t2" 'BEGIN { printf "%d", n / (b - a) }') functions/s"

# --- batched claims (--batch), contention and a unit killed -9 mid-run ----------------------------
# Each batch is decided per key on its own quorum; the unit's journal flush is shared by every
# key of the message. A unit killed between flush and reply must not let a key be won twice.
NB=${E2E_BATCH_FUNCTIONS:-1000}
ranb=$WORK/ran.batch
: >"$ranb"
for i in $(seq 1 "$NB"); do
  printf '{"argv":["sh","-c","echo %s >> %s"]}\n' "$i" "$ranb"
done >"$WORK/functions.batch"
"$DSENC" push bwork --from "$WORK/functions.batch" >/dev/null || fail "push --from (batch)"
pids=()
for w in 1 2 3 4; do
  b=$((w % 2 == 0 ? 64 : 16))
  ( "$DSCLAIM" bwork --follow --batch "$b" 2>>"$WORK/claimb.err" | "$DSRUN" --worker "b$w" >>"$WORK/resultsb.$w" 2>>"$WORK/runb.err" ) &
  pids+=($!)
done
until [ "$(wc -l <"$ranb")" -ge $((NB / 3)) ]; do sleep 0.05; done
kill_unit 2
sleep 0.3
start_unit 2
deadline=$((SECONDS + 600))
until [ "$(wc -l <"$ranb")" -ge "$NB" ] && [ -z "$("$DSCLAIM" --list bwork 2>/dev/null)" ]; do
  [ $SECONDS -lt $deadline ] || fail "batched run did not finish: $(wc -l <"$ranb") of $NB ran"
  sleep 0.5
done
finish_pipelines "$ranb" "$NB" batched
note "batched: $NB functions, 4 workers with --batch 16/64, unit 2 killed -9 and restarted: each executed exactly once"

# --- lease mode: a worker killed -9 mid-run; the function comes back; the old owner is fenced ------
echo "lease input" | "$DSENC" put lease/in
"$DSENC" push lq --in lease/in --out lease/out -- sh -c 'sleep 2; tr a-z A-Z' >/dev/null
( "$DSCLAIM" lq --mode lease --lease 1.5 | "$DSRUN" --worker doomed >"$WORK/doomed.out" 2>&1 ) &
doomed=$!
sleep 0.8
pkill -9 -P "$doomed" || true   # dsclaim and dsrun die; the command is orphaned
pkill -9 -f "sleep 2" || true
wait "$doomed" 2>/dev/null || true
expect_rc 1 "$DSENC" get lease/out
expect_rc 1 "$DSCLAIM" lq --mode lease   # the dead owner's lease is still live
sleep 1.5
"$DSCLAIM" lq --mode lease --lease 5 | "$DSRUN" --worker heir >"$WORK/heir.out" || fail "rerun: $(cat "$WORK/heir.out")"
grep -q '"outcome":"done".*"token":2' "$WORK/heir.out" || fail "heir did not run with token 2: $(cat "$WORK/heir.out")"
[ "$("$DSENC" get lease/out)" = "LEASE INPUT" ] || fail "lease output wrong"
echo "late" | expect_rc 6 "$DSENC" put lease/out --token 1
grep -q fenced "$WORK/err" || fail "late write of the dead owner not fenced: $(cat "$WORK/err")"
[ "$("$DSENC" get lease/out)" = "LEASE INPUT" ] || fail "fenced write changed the output"
expect_rc 1 "$DSCLAIM" lq --mode lease
note "lease: killed worker's function ran again after the lease with token 2; late token-1 write fenced"

# dsrun's small output went to the units' packs, not to files; a later revision put as files
# supersedes it, also after every unit restarted (replaying its packs and files).
for i in 0 1 2 3 4; do
  [ ! -e "$WORK/unit$i/objects/lease/out" ] || fail "unit $i stored dsrun's small output as files"
done
echo "newer" | "$DSENC" put lease/out --token 2 2>"$WORK/err" || fail "put over a packed output: $(cat "$WORK/err")"
for i in 0 1 2 3 4; do kill_unit "$i"; start_unit "$i"; done
[ "$("$DSENC" get lease/out)" = "newer" ] || fail "the packed output came back over the newer revision"
note "the output was packed; a newer revision stored as files supersedes it across restarts"

# --- a unit restarted during a held lease grants no second ownership ---------------------------------
"$DSENC" push rq -- sh -c 'sleep 3; echo owned' >/dev/null
( "$DSCLAIM" rq --mode lease --lease 10 --max 1 | "$DSRUN" --worker first >"$WORK/first.out" 2>&1 ) &
first=$!
sleep 0.7
kill_unit 2
start_unit 2
expect_rc 1 "$DSCLAIM" rq --mode lease --lease 10
grep -q "locked" "$WORK/err" || fail "second claimer: $(cat "$WORK/err")"
wait "$first" || fail "first owner failed: $(cat "$WORK/first.out")"
grep -q '"outcome":"done"' "$WORK/first.out" || fail "first owner did not finish: $(cat "$WORK/first.out")"
note "restart: unit 2 restarted during a held lease; no second owner; the first finished"

# --- lease mode: a unit that missed the owner's commit is helped to finish by the next claimer ------
hq_key=$("$DSENC" push hq -- echo helped) || fail "push hq"
# unit_holds KEY UNIT: whether UNIT holds the slice of function KEY (as dsenc stat reports it).
# (stat exits non-zero while the object is at risk: its output is what counts here)
unit_holds() { { "$DSENC" --timeout 0.5 stat "$1" || true; } | grep -qE "^ +$2 +tcp://[^ ]+ +ok +1/1 slices"; }
kill_unit 4                       # unit 4 holds a slice but will miss the commit and the finish
"$DSCLAIM" hq --mode lease --max 1 --timeout 0.5 | "$DSRUN" --timeout 0.5 >"$WORK/hq.out" ||
  fail "lease run with unit 4 down: $(cat "$WORK/hq.out")"
grep -q '"outcome":"done"' "$WORK/hq.out" || fail "hq not done: $(cat "$WORK/hq.out")"
start_unit 4
unit_holds "$hq_key" 4 ||
  fail "unit 4 should still hold the slice it never heard about"
# The next walker that lists the key (a listing waits for a majority and then a short grace, so
# a just-restarted unit may be missed once) finds it done and helps unit 4 finish.
for walk in 1 2 3 4 5 6 7 8 9 10; do
  expect_rc 1 "$DSCLAIM" hq --mode lease
  unit_holds "$hq_key" 4 || break
  [ "$walk" -lt 10 ] || fail "unit 4 still holds the finished function's slice after 10 walks"
done
"$DSCLAIM" --list hq | grep -q . && fail "the finished function is still listed"
note "help-finish: a unit that missed the owner's commit dropped the finished function"

# --- tolerance: pushes with n-w=1 unit down, claims with n-q=2 down; one more fails clearly -----------
kill_unit 4
for i in 1 2; do "$DSENC" --timeout 0.5 push tq -- echo "$i" >/dev/null || fail "push with n-w units down"; done
printf '{"argv":["echo","%s"]}\n' a b c >"$WORK/tq3"
"$DSENC" --timeout 0.5 push tqf --from "$WORK/tq3" >"$WORK/tqf.keys" || fail "push --from with n-w units down"
[ "$(wc -l <"$WORK/tqf.keys")" = 3 ] || fail "push --from with n-w units down printed $(wc -l <"$WORK/tqf.keys") keys"
kill_unit 3
expect_rc 3 "$DSENC" --timeout 0.5 push tq -- echo 3
grep -q "w=4" "$WORK/err" || fail "push past the limit should name w: $(cat "$WORK/err")"
# A batch past the limit: every line fails on its own, named by its line, and none is queued.
rc=0
"$DSENC" --timeout 0.5 push tqg --from "$WORK/tq3" >"$WORK/tqg.keys" 2>"$WORK/err" || rc=$?
[ "$rc" = 3 ] || fail "push --from past the limit exited $rc: $(cat "$WORK/err")"
[ -s "$WORK/tqg.keys" ] && fail "push --from past the limit printed keys: $(cat "$WORK/tqg.keys")"
for l in 1 2 3; do
  grep -q "tq3:$l: .*w=4" "$WORK/err" || fail "push --from past the limit should name line $l and w: $(cat "$WORK/err")"
done
"$DSCLAIM" tq --max 1 --timeout 0.5 | "$DSRUN" --timeout 0.5 >"$WORK/tq.out" || fail "claim with 2 of 5 down"
grep -q '"outcome":"done"' "$WORK/tq.out" || fail "run with 2 of 5 down: $(cat "$WORK/tq.out")"
kill_unit 2
expect_rc 3 "$DSCLAIM" tq --timeout 0.5
grep -q "q=3" "$WORK/err" && grep -q "127.0.0.1:$((PORT_BASE + 2))" "$WORK/err" ||
  fail "claim past the limit should name q and the silent units: $(cat "$WORK/err")"
start_unit 2
start_unit 3
start_unit 4
"$DSCLAIM" --list tq | grep -q . || fail "the unclaimed function was lost"
"$DSCLAIM" --list tqg | grep -q . && fail "a function whose push failed is queued"
[ "$("$DSCLAIM" --list tqf | wc -l)" = 3 ] || fail "functions pushed with a unit down were lost"
note "tolerance: claims with n-q units down ok; one more down fails with exit 3; nothing lost"
# --- a key consumed on one unit only (its claimer died mid-commit) is settled, not skipped -------
# The claimer steps (script(1) gives --step its terminal): phase 1 everywhere, then units 1-4 are
# stopped, so its commit lands on unit 0 only; it is killed, and units 1-4 are killed and
# restarted, losing the commit. A walker's first try may then see the key consumed (unit 0) and
# leave it; it must still settle it in the same walk, so that no unit lists it afterwards.
lv_case() { # lv_case WALKER OPTIONS...: the scenario above, settled by a walker with OPTIONS
  "$DSENC" push lv -- echo once >"$WORK/lv.key"
  rm -f "$WORK/lv.enter" "$WORK/lv.tty"
  mkfifo "$WORK/lv.enter"
  script -qfec "$DSCLAIM lv --trace --step --max 1 --lease 1 --timeout 0.3" /dev/null \
    <"$WORK/lv.enter" >"$WORK/lv.tty" 2>&1 &
  lv_script=$!
  exec 5>"$WORK/lv.enter"
  lv_wait() { # lv_wait REGEX: until the stepping claimer's terminal shows REGEX (10 s)
    local tries=0
    until { tr -d '\r' <"$WORK/lv.tty"; } 2>/dev/null | grep -qE -e "$1"; do
      tries=$((tries + 1))
      [ $tries -lt 500 ] || fail "lv: no '$1' in: $(cat "$WORK/lv.tty")"
      sleep 0.02
    done
  }
  lv_wait "next: phase 1"
  echo >&5
  lv_wait "next: phase 2"
  for i in 1 2 3 4; do kill -STOP "${UNIT_PID[$i]}"; done
  echo >&5
  lv_wait "<- unit 0 .* commit .* consumed"
  pkill -KILL -f "dsclaim lv --trace --step" || true
  exec 5>&-
  kill "$lv_script" 2>/dev/null || true
  wait "$lv_script" 2>/dev/null || true
  for i in 1 2 3 4; do kill_unit "$i"; start_unit "$i"; done
  [ "$("$DSCLAIM" --list lv | wc -l)" = 1 ] || fail "lv: the half-committed key should be listed"
  sleep 1.2 # the dead claimer's 1 s locks lapse
  rc=0
  "$DSCLAIM" lv --json "$@" >"$WORK/lv.out" 2>"$WORK/lv.err" || rc=$?
  [ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "lv: walker exit $rc: $(cat "$WORK/lv.err")"
  [ -z "$("$DSCLAIM" --list lv)" ] || fail "lv: the key is still listed after a walk (skipped, not settled)"
  note "half-committed key: settled by the next walker $* (exit $rc)"
}
if command -v script >/dev/null; then
  lv_case --max 1
  lv_case --batch 8 --max 8
else
  note "half-committed key: skipped (no script(1))"
fi

echo "PASS claims"
