#!/usr/bin/env bash
# Model-check the claim protocol (tests/model/claim.pml, docs/claim.md) with spin.
#
#   bash tests/model/run.sh            # what CI runs (ctest -L model): about 4 minutes, 2 cores
#
# Runs, in a temp dir, two at a time:
#   consume-exhaustive  2 claimers, 3 units, k=2, q=2, consume mode, every state
#   lease-exhaustive    the same in lease mode
#   consume-bitstate    3 claimers, 5 units, k=3, q=3, consume mode, bitstate, time-boxed
#   lease-bitstate      the same in lease mode
# and exits non-zero if spin reports any error: "errors: N" with N > 0, an assertion
# violated, an acceptance cycle, an invalid end state, "out of memory", or (exhaustive runs)
# a search that did not complete or hit the depth limit.
#
# Environment: SPIN (default: spin from PATH), CC (default: gcc), MODEL_JOBS (runs at a time,
# default 2), MODEL_BITSTATE_MINUTES (time box per bitstate run, default 1), MODEL_SEEDS
# (bitstate runs per mode with different random orders, default 1), MODEL_KEEP=1 keeps the
# temp dir, MODEL_ONLY (a regex: run only the checks whose name matches), MODEL_DEFINES (extra
# spin -D flags for every run, e.g. a mutation: MODEL_DEFINES=-DTOKEN_FIX=0 must fail).
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model=$here/claim.pml
spin=${SPIN:-spin}
cc=${CC:-gcc}
jobs=${MODEL_JOBS:-2}
minutes=${MODEL_BITSTATE_MINUTES:-1}
seeds=${MODEL_SEEDS:-1}
only=${MODEL_ONLY:-}
defines=${MODEL_DEFINES:-}

if ! command -v "$spin" >/dev/null 2>&1; then
  echo "run.sh: FAIL: spin not found in PATH (Debian: apt-get install spin)" >&2
  exit 2
fi
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "run.sh: FAIL: C compiler '$cc' not found (Debian: apt-get install gcc)" >&2
  exit 2
fi
[ -r "$model" ] || { echo "run.sh: FAIL: cannot read $model" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/claim-model.XXXXXX") || exit 2
if [ "${MODEL_KEEP:-0}" = 1 ]; then
  echo "run.sh: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi

# name | kind (exhaustive/bitstate) | spin -D flags | pan flags
runs=(
  "lease-exhaustive|exhaustive|-DMODE=LEASE|-m100000 -w25"
  "consume-exhaustive|exhaustive|-DMODE=CONSUME|-m100000 -w25"
)
big="-DNCLAIMERS=3 -DNUNITS=5 -DK=3 -DQ=3 -DLOSE_P1_REPLY=1"
for s in $(seq 1 "$seeds"); do
  runs+=("consume-bitstate-$s|bitstate|-DMODE=CONSUME $big|-m100000 -w28 -Q$minutes -RS$((s * 7919))")
  runs+=("lease-bitstate-$s|bitstate|-DMODE=LEASE $big|-m100000 -w28 -Q$minutes -RS$((s * 7919))")
done

# one check: spin -a, compile, run pan, classify the output.  Writes $dir/result.
check() {
  local name=$1 kind=$2 dflags=$3 pflags=$4
  local dir=$work/$name
  mkdir -p "$dir" && cp "$model" "$dir/claim.pml" && cd "$dir" || return 1
  local ccflags="-O2 -DSAFETY"
  if [ "$kind" = exhaustive ]; then
    ccflags="$ccflags -DCOLLAPSE -DNOBOUNDCHECK -DMEMLIM=8192"
  else
    ccflags="$ccflags -DBITSTATE -DT_RAND -DP_RAND"
  fi
  # shellcheck disable=SC2086
  if ! "$spin" $dflags -a claim.pml >spin.log 2>&1; then
    { echo "FAIL spin -a"; cat spin.log; } >result; return 1
  fi
  # shellcheck disable=SC2086
  if ! "$cc" $ccflags -o pan pan.c >cc.log 2>&1; then
    { echo "FAIL compile"; tail -20 cc.log; } >result; return 1
  fi
  local t0=$SECONDS
  # shellcheck disable=SC2086
  ./pan $pflags >pan.log 2>&1
  local rc=$? secs=$((SECONDS - t0))
  local bad=""
  local nerr
  nerr=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.log | tail -1)
  [ -n "$nerr" ] || bad="$bad; no 'errors:' line (pan exit $rc)"
  [ -z "$nerr" ] || [ "$nerr" -eq 0 ] || bad="$bad; errors: $nerr"
  grep -q "assertion violated" pan.log && bad="$bad; assertion violated"
  grep -q "acceptance cycle" pan.log && bad="$bad; acceptance cycle"
  grep -q "invalid end state (" pan.log && bad="$bad; invalid end state"
  grep -qi "out of memory" pan.log && bad="$bad; out of memory"
  grep -q "MEMLIM" pan.log && bad="$bad; memory limit reached"
  if [ "$kind" = exhaustive ]; then
    grep -q "Search not completed" pan.log && bad="$bad; search not completed"
    grep -q "max search depth too small" pan.log && bad="$bad; depth limit reached"
  fi
  local states depth mem hf
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.log | tail -1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.log | tail -1)
  mem=$(sed -n 's/^ *\([0-9.]*\).*total actual memory usage.*/\1/p' pan.log | tail -1)
  hf=$(sed -n 's/^hash factor: \([0-9.e+]*\).*/\1/p' pan.log | tail -1)
  local info="states=$states depth=$depth mem=${mem}MB time=${secs}s"
  [ -n "$hf" ] && info="$info hash-factor=$hf"
  grep -q "Time limit of" pan.log && info="$info (time box reached: partial search)"
  if [ -n "$bad" ]; then
    { echo "FAIL ${bad#; } $info"; grep -m3 -E "assertion violated|pan:|error" pan.log;
      echo "  replay: cd $dir && $spin $dflags -t -p claim.pml (MODEL_KEEP=1 keeps it)"; } >result
    return 1
  fi
  echo "ok   $info" >result
}

echo "claim model: $("$spin" -V 2>/dev/null | head -1); $jobs run(s) at a time${defines:+; extra: $defines}"
t0=$SECONDS
running=0
names=()
for r in "${runs[@]}"; do
  IFS='|' read -r name kind dflags pflags <<<"$r"
  [ -z "$only" ] || [[ $name =~ $only ]] || continue
  dflags="$dflags $defines"
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  ( check "$name" "$kind" "$dflags" "$pflags" ) &
  running=$((running + 1))
  names+=("$name")
done
wait

status=0
for name in "${names[@]}"; do
  res=$(cat "$work/$name/result" 2>/dev/null || echo "FAIL (no result)")
  case $res in ok*) ;; *) status=1 ;; esac
  printf '%-20s %s\n' "$name" "$res"
done
echo "claim model: $((SECONDS - t0))s in all"

if [ "$status" -ne 0 ]; then
  echo "claim model: FAIL"
  exit 1
fi
echo "claim model: all checks passed"
