#!/usr/bin/env bash
# A Jepsen-style history check: 8 workers claim and run N functions (consume mode) while a
# chaos loop kill -9s a random unit and restarts it; every function appends "start ID T" and
# "end ID T" to a history file, and a checker reads the whole history: no function owned twice
# at once, none executed twice, none lost.
#   E2E_HISTORY_FUNCTIONS (default 500 in CI; the issue's figure: 10000), E2E_HISTORY_WORKERS (8)
PORT_BASE=${PORT_BASE:-17300}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
N=${E2E_HISTORY_FUNCTIONS:-500}
W=${E2E_HISTORY_WORKERS:-8}
start_units 5
H=$WORK/history
: >"$H"
for i in $(seq 1 "$N"); do
  printf '{"argv":["sh","-c","echo start %s $(date +%%s%%N) >> %s; echo end %s $(date +%%s%%N) >> %s"]}\n' \
    "$i" "$H" "$i" "$H"
done >"$WORK/functions"
"$DSENC" --timeout 1 push hq --from "$WORK/functions" >/dev/null || fail "push"

pids=()
for w in $(seq 1 "$W"); do
  ( "$DSCLAIM" hq --follow --timeout 1 2>>"$WORK/claim.err" | "$DSRUN" --timeout 1 --worker "w$w" >>"$WORK/results" 2>>"$WORK/run.err" ) &
  pids+=($!)
done
# Chaos: one unit at a time is killed and comes back (claims tolerate n-q = 2 down).
kills=0
deadline=$((SECONDS + 900))
while [ "$(grep -c '^end ' "$H")" -lt "$N" ]; do
  [ $SECONDS -lt $deadline ] || fail "history run did not finish: $(grep -c '^end ' "$H") of $N"
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
echo "PASS history"
