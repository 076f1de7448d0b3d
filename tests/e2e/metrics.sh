#!/usr/bin/env bash
# The metrics with a real Prometheus: three units and a worker serve --metrics on loopback, a
# Prometheus (scraping every second, its data in the test's dir) scrapes them, and its HTTP API
# must show every unit up, exactly the puts and claims the test made, a corrupt slice found,
# the alert that raises, and the worker's runs. Also checks contrib/prometheus with promtool.
# Needs prometheus, promtool and curl (scripts/setup installs them).
# Ports: units PORT_BASE+0..2, their metrics +10..12, dsrun's +20, Prometheus +30.
PORT_BASE=${PORT_BASE:-17400}
PORT_SPAN=51
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
DSRUN="$DSTK_BIN/dsrun/dsrun"
for tool in prometheus promtool curl; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/setup installs it)"
done

# --- the shipped rules and example scrape configuration are valid -----------------------------
promtool check rules "$SRC/contrib/prometheus/dstk-alerts.yml" >"$WORK/promtool" 2>&1 \
  || fail "promtool check rules: $(cat "$WORK/promtool")"
promtool check config "$SRC/contrib/prometheus/prometheus.yml" >"$WORK/promtool" 2>&1 \
  || fail "promtool check config: $(cat "$WORK/promtool")"

# --- --metrics is validated -------------------------------------------------------------------
expect_rc 2 "$DSNODE" --dir "$WORK/bad" --metrics 0
expect_rc 2 "$DSNODE" --dir "$WORK/bad" --metrics 65536
expect_rc 2 "$DSNODE" --dir "$WORK/bad" --metrics localhost:9464
expect_rc 2 "$DSTK_BIN/dsrun/dsrun" --metrics 1.2.3:80 </dev/null
grep -q "1.2.3" "$WORK/err" || fail "dsrun --metrics error does not name the address: $(cat "$WORK/err")"

# --- three units, their metrics on loopback (a bare PORT binds 127.0.0.1) ------------------------
: >"$WORK/nodes"
DSTK_NODES=""
targets=""
for i in 0 1 2; do
  # debug: each request is logged as it is handled (the one-put check below reads the order)
  start_unit "$i" --metrics "$((PORT_BASE + 10 + i))" --log-level debug
  grep -q "metrics on http://127.0.0.1:$((PORT_BASE + 10 + i))/metrics" "$WORK/unit$i.log" \
    || fail "unit $i does not serve its metrics on loopback: $(cat "$WORK/unit$i.log")"
  DSTK_NODES="${DSTK_NODES:+$DSTK_NODES,}127.0.0.1:$((PORT_BASE + i))"
  targets="${targets:+$targets, }'127.0.0.1:$((PORT_BASE + 10 + i))'"
done
export DSTK_NODES
WORKER_METRICS=$((PORT_BASE + 20))
PROM_PORT=$((PORT_BASE + 30))

cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - '$SRC/contrib/prometheus/dstk-alerts.yml'
scrape_configs:
  - job_name: dstk-units
    static_configs:
      - targets: [$targets]
  - job_name: dstk-workers
    static_configs:
      - targets: ['127.0.0.1:$WORKER_METRICS']
EOF
promtool check config "$WORK/prometheus.yml" >"$WORK/promtool" 2>&1 \
  || fail "the generated config: $(cat "$WORK/promtool")"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
  --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn 2>"$WORK/prometheus.log" &
PROM_PID=$!
stop_prometheus() {
  kill -TERM "$PROM_PID" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$PROM_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PROM_PID" 2>/dev/null || true
}
trap 'stop_prometheus; cleanup' EXIT

# value EXPR: EXPR's value now, as Prometheus's HTTP API answers it (NaN when it has no sample).
value() {
  curl -sfG --data-urlencode "query=scalar($1)" "http://127.0.0.1:$PROM_PORT/api/v1/query" \
    | sed -n 's/.*"result":\[[0-9.e+]*,"\([^"]*\)"\].*/\1/p'
}
# expect_values EXPR WANT [EXPR WANT...]: waits (30 s at most) until each EXPR reaches its WANT,
# then lets three more scrapes go by and checks that each is still exactly its WANT (nothing
# counted twice, nothing late).
expect_values() {
  local args=("$@") i got tries
  for ((i = 0; i < ${#args[@]}; i += 2)); do
    tries=0
    until got=$(value "${args[i]}") && [ -n "$got" ] && [ "$got" != NaN ] \
      && awk -v g="$got" -v w="${args[i + 1]}" 'BEGIN { exit !(g + 0 >= w + 0) }'; do
      tries=$((tries + 1))
      [ $tries -lt 300 ] || fail "${args[i]}: ${got:-no answer}, expected ${args[i + 1]}"
      sleep 0.1
    done
  done
  sleep 3
  for ((i = 0; i < ${#args[@]}; i += 2)); do
    got=$(value "${args[i]}")
    [ "$got" = "${args[i + 1]}" ] || fail "${args[i]}: $got, expected exactly ${args[i + 1]}"
  done
}

tries=0
until [ "$(value 'count(up{job="dstk-units"} == 1)')" = 3 ]; do
  tries=$((tries + 1))
  [ $tries -lt 300 ] || fail "Prometheus does not see 3 units up: $(cat "$WORK/prometheus.log")"
  kill -0 "$PROM_PID" 2>/dev/null || fail "prometheus exited: $(cat "$WORK/prometheus.log")"
  sleep 0.1
done
note "Prometheus scrapes 3 units: up == 1 for each"
# Every unit reports its id (DIR/unit.id) as a label.
for i in 0 1 2; do
  id=$(cat "$WORK/unit$i/unit.id")
  [ "$(value "count(dstk_unit_objects{unit_id=\"$id\"})")" = 1 ] || fail "no series of unit $i ($id)"
done

# --- puts: exactly 3 publishes and 3 slices per one-segment object ------------------------------
puts='sum(dstk_unit_requests_total{op="publish",status="ok"})'
slices='sum(dstk_unit_requests_total{op="put_slice",status="ok"})'
[ "$(value "$puts")" = 0 ] || fail "publishes before any put: $(value "$puts")"
for i in 1 2 3 4 5; do
  random_file "$WORK/in$i" 20000
  "$DSENC" put "obj$i" "$WORK/in$i" -k 2 || fail "put obj$i"
done
expect_values "$puts" 15 "$slices" 15 'sum(dstk_unit_objects)' 15 'sum(dstk_unit_slices)' 15
[ "$(value 'sum(dstk_unit_stored_bytes) > 60000')" != NaN ] || fail "stored bytes: $(value 'sum(dstk_unit_stored_bytes)')"
[ "$(value 'min(dstk_unit_free_bytes) > 0')" != NaN ] || fail "free bytes: $(value 'min(dstk_unit_free_bytes)')"
[ "$(value 'sum(dstk_unit_flush_duration_seconds_count{target="files"}) > 0')" != NaN ] \
  || fail "no file flushes timed"
note "5 puts: publish and put_slice counters grew by exactly 15, objects and slices gauges 15"

# --- claims: 6 functions, one claimer, one worker ------------------------------------------------
for i in 1 2 3 4 5 6; do "$DSENC" push jobs -- echo "$i" >>"$WORK/pushed" || fail "push $i"; done
# unit_sum WHAT REGEX: the sum over the three units of the sample whose name and labels match
# REGEX (awk, on the first field), read from the units themselves, not Prometheus.
unit_sum() {
  local i sum=0 v
  for i in 0 1 2; do
    v=$(curl -sf "http://127.0.0.1:$((PORT_BASE + 10 + i))/metrics" | awk -v re="$2" '$1 ~ re { print $2 }')
    [ -n "$v" ] || fail "unit $i shows no $1"
    sum=$(awk -v a="$sum" -v b="$v" 'BEGIN { print a + b }')
  done
  echo "$sum"
}
# accepted: connections the three units accepted so far.
accepted() {
  unit_sum dstk_unit_client_connections_total '^dstk_unit_client_connections_total([{].*)?$'
}
accepted_before=$(accepted)
mkfifo "$WORK/claims"
"$DSCLAIM" jobs --follow >"$WORK/claims" 2>"$WORK/dsclaim.err" &
claim_pid=$!
"$DSRUN" --metrics "$WORKER_METRICS" <"$WORK/claims" >"$WORK/runs" 2>"$WORK/dsrun.err" &
run_pid=$!
tries=0
until [ "$(wc -l <"$WORK/runs")" -ge 6 ]; do
  tries=$((tries + 1))
  [ $tries -lt 600 ] || fail "6 functions did not run: $(cat "$WORK/runs" "$WORK/dsrun.err")"
  sleep 0.1
done
# A single claimer meets no contention: each function is promised and committed on all 3 units.
expect_values 'sum(dstk_unit_claim_promises_total)' 18 'sum(dstk_unit_claim_commits_total)' 18 \
  'sum(dstk_unit_claim_refusals_total)' 0 'sum(dstk_worker_runs_total{outcome="done"})' 6 \
  'sum(dstk_worker_runs_total{outcome!="done"})' 0 'sum(dstk_worker_run_duration_seconds_count)' 6 \
  'count(up{job="dstk-workers"} == 1)' 1
[ "$(value 'sum(dstk_unit_clients_connected) >= 3')" != NaN ] \
  || fail "clients connected while dsclaim --follow runs: $(value 'sum(dstk_unit_clients_connected)')"
note "6 claims: 18 promises, 18 commits, no refusals; the worker counted 6 runs done"
# dsclaim and dsrun each connect once to each unit and keep the connection from one function
# to the next: 6 accepted in all, where a connection per function would make 3 more each.
accepted_now=$(accepted)
[ "$(awk -v a="$accepted_before" -v b="$accepted_now" 'BEGIN { print b - a }')" -le 6 ] \
  || fail "connections accepted for 6 functions: $accepted_before -> $accepted_now (want <= 6 more)"
note "6 functions: $((accepted_now - accepted_before)) connections accepted (dsclaim and dsrun, one per unit each)"
kill "$claim_pid"
wait "$claim_pid" "$run_pid" 2>/dev/null || true  # dsrun ends at the end of its input
expect_values 'sum(dstk_unit_clients_connected)' 0
note "the pipeline stopped: no clients connected"

# --- a function's small output and its log go in one put ----------------------------------------
# dsrun sends the slices of both, then the publishes of both: on every unit the log's put_slice is
# handled before the output's publish (two puts would publish the output first). The units then
# flush both objects' writes together when the two requests arrive together (group commit); the
# file flushes are counted for the note, not asserted: whether two requests meet in one group
# depends on timing (an ASan build splits about half of them).
# file_flushes: the file flushes of the three units so far.
file_flushes() {
  unit_sum "file flushes" '^dstk_unit_flush_duration_seconds_count[{].*target="files"'
}
# run_four QUEUE WHAT: runs the 4 functions on QUEUE through one pipeline; prints the file flushes
run_four() {
  local before
  before=$(file_flushes)
  "$DSCLAIM" "$1" --max 4 2>"$WORK/dsclaim.err" | "$DSRUN" >"$WORK/runs.$1" 2>"$WORK/dsrun.err" \
    || fail "dsclaim | dsrun of 4 functions $2: $(cat "$WORK/dsclaim.err" "$WORK/dsrun.err")"
  [ "$(grep -c '"outcome":"done"' "$WORK/runs.$1")" = 4 ] || fail "4 functions $2: $(cat "$WORK/runs.$1")"
  awk -v a="$before" -v b="$(file_flushes)" 'BEGIN { print b - a }'
}
for i in 1 2 3 4; do
  "$DSENC" push logs -- echo "output $i" >/dev/null || fail "push $i (no output)"
  "$DSENC" push outs --out "out/$i" -- echo "output $i" >/dev/null || fail "push out/$i"
done
without=$(run_four logs "without outputs")
with=$(run_four outs "with outputs")
[ "$("$DSENC" get out/3)" = "output 3" ] || fail "out/3 holds '$("$DSENC" get out/3)'"
for i in 0 1 2; do
  for o in 1 2 3 4; do
    leaf=$(grep -F "\"output\":\"out/$o\"" "$WORK/runs.outs" | sed 's/.*"key":"outs\/\([^"]*\)".*/\1/')
    [ -n "$leaf" ] || fail "no result names out/$o: $(cat "$WORK/runs.outs")"
    log_slice=$(grep -n -m1 -F "put_slice outs.log/$leaf: ok" "$WORK/unit$i.log.new" | cut -d: -f1)
    out_publish=$(grep -n -m1 -F "publish out/$o: ok" "$WORK/unit$i.log.new" | cut -d: -f1)
    [ -n "$log_slice" ] && [ -n "$out_publish" ] || fail "unit $i logged no put_slice of outs.log/$leaf or publish of out/$o"
    [ "$log_slice" -lt "$out_publish" ] \
      || fail "unit $i published out/$o (log line $out_publish) before it stored the log's slice (line $log_slice): two puts"
  done
done
note "4 functions with outputs: each unit took the log's slice before the output's publish; $without file flushes on 3 units without outputs, $with with"

# --- a corrupt slice is counted and raises DstkCorruptSlices -------------------------------------
flip_byte "$(ls "$WORK"/unit0/objects/obj1/*.00000000.slice)" 4000
# A repair has every unit re-check its slices' CRCs (a get may be served by the other two).
"$DSENC" repair obj1 >"$WORK/repair" 2>&1 || fail "repair obj1: $(cat "$WORK/repair")"
"$DSENC" get obj1 | cmp - "$WORK/in1" || fail "obj1 changed"
expect_values "dstk_unit_corrupt_slices_total{unit_id=\"$(cat "$WORK/unit0/unit.id")\"}" 1 \
  'count(ALERTS{alertname="DstkCorruptSlices",alertstate="firing"})' 1
note "a corrupt slice: counted on unit 0, DstkCorruptSlices fires"
