#!/usr/bin/env bash
# A Jepsen-style history check: 8 workers claim and run N functions (consume mode) while a
# chaos loop kill -9s a random unit and restarts it; every function appends "start ID T" and
# "end ID T" to a history file, and a checker reads the whole history: no function owned twice
# at once, none executed twice, none lost. Then lease mode, with workers killed -9 too: none lost.
# Half the workers claim in batches (dsclaim --batch 8), so batched and one-key claimers contend.
#   E2E_HISTORY_FUNCTIONS (default 500 in CI; the issue's figure: 10000), E2E_HISTORY_WORKERS (8),
#   E2E_HISTORY_LEASE_FUNCTIONS (default a fifth of E2E_HISTORY_FUNCTIONS)
PORT_BASE=${PORT_BASE:-17300}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
N=${E2E_HISTORY_FUNCTIONS:-500}
W=${E2E_HISTORY_WORKERS:-8}
start_units 5
# functions COUNT HISTORY [EXTRA_JSON]: COUNT function records (push --from lines) whose commands
# append "start ID T" and "end ID T" to HISTORY; EXTRA_JSON adds fields (e.g. ,"attempts":9).
functions() {
  local i
  : >"$2"
  for i in $(seq 1 "$1"); do
    printf '{"argv":["sh","-c","echo start %s $(date +%%s%%N) >> %s; echo end %s $(date +%%s%%N) >> %s"]%s}\n' \
      "$i" "$2" "$i" "$2" "${3:-}"
  done
}
H=$WORK/history
functions "$N" "$H" >"$WORK/functions"
"$DSENC" --timeout 1 push hq --from "$WORK/functions" >/dev/null || fail "push"

pids=()
for w in $(seq 1 "$W"); do
  ( "$DSCLAIM" hq --follow --timeout 1 --batch $((w % 2 == 0 ? 8 : 1)) 2>>"$WORK/claim.err" |
      "$DSRUN" --timeout 1 --worker "w$w" >>"$WORK/results" 2>>"$WORK/run.err" ) &
  pids+=($!)
done
# Chaos: one unit at a time is killed and comes back (claims tolerate n-q = 2 down).
# stuck ID...: what became of functions that never ended (for a failure message).
stuck() {
  awk -v n="$N" '$1 == "start" { s[$2] = 1 } $1 == "end" { e[$2] = 1 }
    END { for (i = 1; i <= n; i++) if (!(i in e)) printf "%s%s ", i, (i in s) ? "(started)" : "" }' "$H" | head -c 400
  echo "; still listed: $("$DSCLAIM" --list hq 2>&1 | wc -l); claim errors: $(tail -3 "$WORK/claim.err" 2>/dev/null)"
}
kills=0
deadline=$((SECONDS + 900 + N / 10))
while [ "$(grep -c '^end ' "$H")" -lt "$N" ]; do
  [ $SECONDS -lt $deadline ] || fail "history run did not finish: $(grep -c '^end ' "$H") of $N; $(stuck)"
  victim=$((RANDOM % 5))
  kill_unit "$victim"
  kills=$((kills + 1))
  sleep 1
  start_unit "$victim"
  sleep 1
done
sleep 2   # give a (wrong) duplicate time to show up
for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
wait "${pids[@]}" 2>/dev/null || true

# The checker: overlapping ownership, duplicates, losses.
awk -v n="$N" '
  $1 == "start" { if ($2 in started) dup[$2] = 1; started[$2] = $3; open[$2]++; if (open[$2] > 1) overlap[$2] = 1 }
  $1 == "end"   { ended[$2]++; open[$2]-- }
  END {
    bad = 0
    for (i in overlap) { print "owned twice at once: " i; bad = 1 }
    for (i in dup)     { print "executed twice: " i; bad = 1 }
    for (i = 1; i <= n; i++) if (!(i in ended)) { print "lost: " i; bad = 1 }
    exit bad
  }' "$H" >"$WORK/verdict" || fail "history check: $(head -20 "$WORK/verdict")"
note "history: $N functions, $W workers, $kills unit kills: none owned twice at once, none executed twice, none lost"

# --- lease mode: workers killed -9 as well as units; at-least-once, so nothing may be lost -------
# A killed worker's function comes back when its lease lapses (2 s) and runs again; a run counts
# as an attempt, so the functions allow many (else a function unlucky enough to be killed
# --attempts times would go to lq.failed, which is not lost but is not what this checks).
L=${E2E_HISTORY_LEASE_FUNCTIONS:-$((N / 5))}
LH=$WORK/lease-history
functions "$L" "$LH" ',"attempts":1000' >"$WORK/lease-functions"
"$DSENC" --timeout 1 push lq --from "$WORK/lease-functions" >/dev/null || fail "push lq"
start_lease_worker() {
  ( "$DSCLAIM" lq --mode lease --lease 2 --follow --timeout 1 --batch $(($1 % 2 == 0 ? 4 : 1)) 2>>"$WORK/lclaim.err" |
      "$DSRUN" --timeout 1 --worker "l$1" >>"$WORK/lresults" 2>>"$WORK/lrun.err" ) &
  lpids[$1]=$!
}
declare -a lpids=()
for w in $(seq 1 "$W"); do start_lease_worker "$w"; done
worker_kills=0 unit_kills=0
deadline=$((SECONDS + 900))
while [ "$(awk '$1 == "end" { e[$2] = 1 } END { print length(e) }' "$LH")" -lt "$L" ]; do
  [ $SECONDS -lt $deadline ] || fail "lease history did not finish"
  w=$((RANDOM % W + 1))
  pkill -9 -P "${lpids[$w]}" 2>/dev/null || true
  kill -9 "${lpids[$w]}" 2>/dev/null || true
  wait "${lpids[$w]}" 2>/dev/null || true
  worker_kills=$((worker_kills + 1))
  start_lease_worker "$w"
  if [ $((worker_kills % 3)) = 0 ]; then
    victim=$((RANDOM % 5))
    kill_unit "$victim"
    unit_kills=$((unit_kills + 1))
    sleep 0.5
    start_unit "$victim"
  fi
  sleep 0.5
done
for p in "${lpids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
wait "${lpids[@]}" 2>/dev/null || true
awk -v n="$L" '
  $1 == "start" { runs[$2]++ }
  $1 == "end"   { ended[$2] = 1 }
  END {
    bad = 0; again = 0
    for (i = 1; i <= n; i++) if (!(i in ended)) { print "lost: " i; bad = 1 }
    for (i in runs) if (runs[i] > 1) again++
    print again > "/dev/stderr"
    exit bad
  }' "$LH" >"$WORK/lverdict" 2>"$WORK/again" || fail "lease history check: $(head -20 "$WORK/lverdict")"
note "lease history: $L functions, $W workers, $worker_kills worker kills, $unit_kills unit kills: none lost ($(cat "$WORK/again") ran more than once, as at-least-once allows)"
echo "PASS history"
