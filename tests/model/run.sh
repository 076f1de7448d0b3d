#!/usr/bin/env bash
# Model-check the claim (tests/model/claim.pml, docs/claim.md "The model") with spin.
#
#   bash tests/model/run.sh              # the model checks (ctest: model_claim)
#   bash tests/model/run.sh --mutations  # spin must refute each known-bad rule (model_claim_mutations)
#   bash tests/model/run.sh --all        # both
#
# Model checks (in a temp dir, MODEL_JOBS at a time):
#   consume-exhaustive  2 claimers x 3 units, k=2 q=2, every state (bounded: see EXH below)
#   lease-exhaustive    the same in lease mode
#   consume-bitstate    3 claimers x 5 units, k=3 q=3, bitstate search, time-boxed
#   lease-bitstate      the same in lease mode
# A check fails on "errors: N" with N > 0, an assertion violated, an invalid end state, out of
# memory, and (exhaustive ones) "Search not completed" or the depth limit reached.
# Mutation checks: the model with one rule broken must end with the named assertion violated
# (the end-state checks are switched off there, so that only the broken rule can be caught).
#
# Environment: SPIN, CC (defaults: spin, gcc), MODEL_JOBS (default 2), MODEL_BITSTATE_MINUTES
# (time box per bitstate run, default 1), MODEL_DEFINES (extra spin -D flags for every run,
# e.g. -DSTRONG_FENCE), MODEL_ONLY (regex on check names), MODEL_KEEP=1 (keep the temp
# dir, to replay a trail: cd DIR/NAME && spin FLAGS -t -p claim.pml).
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
model=$here/claim.pml
spin=${SPIN:-spin}
cc=${CC:-gcc}
jobs=${MODEL_JOBS:-2}
minutes=${MODEL_BITSTATE_MINUTES:-1}
only=${MODEL_ONLY:-}
defines=${MODEL_DEFINES:-}
what=checks
case ${1:-} in
  --mutations) what=mutations ;;
  --all) what=all ;;
  "") ;;
  *) echo "usage: run.sh [--mutations|--all]" >&2; exit 2 ;;
esac

command -v "$spin" >/dev/null 2>&1 || { echo "run.sh: FAIL: spin not found (Debian: apt-get install spin)" >&2; exit 2; }
command -v "$cc" >/dev/null 2>&1 || { echo "run.sh: FAIL: no C compiler '$cc'" >&2; exit 2; }
[ -r "$model" ] || { echo "run.sh: FAIL: cannot read $model" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/claim-model.XXXXXX") || exit 2
if [ "${MODEL_KEEP:-0}" = 1 ]; then echo "run.sh: keeping $work"; else trap 'rm -rf "$work"' EXIT; fi

# Bounds.  Exhaustive: ballot numbers <= 2, one claimer death, one lost message (request or
# reply), releases left to lock lapses (NO_RELEASE: same behaviours, fewer states), and in
# lease mode no renew and no failed run (NO_RENEW, NO_RUN_FAIL: each only stops the owner
# before it finishes, as a death does), and no death (-DNKILL=0 after $EXH: a dead lease owner
# is, to the others, an owner whose lease lapsed; with a death the run needs > 4 GB; the
# lease-bitstate run has deaths).
# Bitstate: ballot numbers <= 3, one death, two lost messages, releases sent.
EXH="-DNC=2 -DNU=3 -DK=2 -DQ=2 -DMAXNUM=2 -DNKILL=1 -DNLOSS=1 -DNO_RELEASE"
BIG="-DNC=3 -DNU=5 -DK=3 -DQ=3 -DMAXNUM=3 -DNKILL=1 -DNLOSS=2"

# name | kind (exhaustive, bitstate) | spin -D flags | expected: ok, or the assertion text
# that must be violated
runs=()
if [ "$what" != mutations ]; then
  runs+=("consume-exhaustive|exhaustive|-DMODE_CONSUME $EXH|ok")
  runs+=("lease-exhaustive|exhaustive|-DMODE_LEASE -DNO_RENEW -DNO_RUN_FAIL $EXH -DNKILL=0|ok")
  runs+=("consume-bitstate|bitstate|-DMODE_CONSUME $BIG|ok")
  runs+=("lease-bitstate|bitstate|-DMODE_LEASE $BIG|ok")
fi
if [ "$what" != checks ]; then
  # (c): two owners with one claim token
  runs+=("mut-no-stale-ballot|mutation|-DMODE_LEASE -DNO_ENDCHECK -DBUG_NO_STALE_BALLOT $EXH|decB[")
  # (a): consume mode has two guards against a second owner (Paxos: Commit refuses a ballot
  # below the promise; and Commit refuses a consumed unit for another owner): break both
  runs+=("mut-no-promise-no-conflict|mutation|-DMODE_CONSUME -DNO_ENDCHECK -DBUG_COMMIT_IGNORES_PROMISE -DBUG_NO_CONFLICT_CHECK $EXH|decOwner==")
  # (b): the claimer commits itself without k slices read. Since a commit naming us counts as
  # accepted once sent, a claimer never comes back to a key whose slices its own commit consumed,
  # and spin finds no state where the check matters (10 M states): it is a defensive guard. So
  # it is checked together with the old walk-away rule, under which it is what saves the owner.
  runs+=("mut-no-slice-check|mutation|-DMODE_CONSUME -DNO_ENDCHECK -DBUG_NO_SLICE_CHECK -DBUG_LEARN_ON_ACK $EXH|slc[")
  # (b): the old claimer walked away after an unacknowledged commit naming itself (found by this
  # model): the function is decided for it later and never run
  runs+=("mut-learn-on-ack|mutation|-DMODE_CONSUME -DBUG_LEARN_ON_ACK $EXH|ran[decOwner]")
fi

# one check: spin -a, compile, run pan, classify.  Writes $dir/result.
check() {
  local name=$1 kind=$2 dflags=$3 expect=$4
  local dir=$work/$name
  mkdir -p "$dir" && cp "$model" "$dir/claim.pml" && cd "$dir" || return 1
  local ccflags="-w -O2 -DSAFETY -DMEMLIM=4096" pflags
  case $kind in
    exhaustive) ccflags="$ccflags -DCOLLAPSE"; pflags="-m3000000 -w26" ;;
    bitstate) ccflags="$ccflags -DBITSTATE"; pflags="-m3000000 -w30 -k3 -Q$minutes" ;;
    mutation) ccflags="$ccflags -DCOLLAPSE"; pflags="-m3000000 -w24" ;;
  esac
  # shellcheck disable=SC2086
  "$spin" $dflags -a claim.pml >spin.log 2>&1 || { { echo "FAIL spin -a"; cat spin.log; } >result; return 1; }
  # shellcheck disable=SC2086
  "$cc" $ccflags -o pan pan.c >cc.log 2>&1 || { { echo "FAIL compile"; tail -20 cc.log; } >result; return 1; }
  local t0=$SECONDS
  # shellcheck disable=SC2086
  ./pan $pflags >pan.log 2>&1
  local rc=$? secs=$((SECONDS - t0))
  local nerr states depth info
  nerr=$(sed -n 's/.*errors: \([0-9][0-9]*\).*/\1/p' pan.log | tail -1)
  states=$(sed -n 's/^ *\([0-9.e+]*\) states, stored.*/\1/p' pan.log | tail -1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' pan.log | tail -1)
  info="states=${states:-?} depth=${depth:-?} time=${secs}s"
  grep -q "Time limit of" pan.log && info="$info (time box: partial search)"
  local replay="replay: MODEL_KEEP=1 ... then cd $dir && $spin $dflags -t claim.pml | grep MSC"
  if [ "$expect" != ok ]; then
    # a mutation: spin must report the expected assertion violated
    if [ "${nerr:-0}" -gt 0 ] && grep "assertion violated" pan.log | grep -qF "$expect"; then
      echo "ok   refuted as expected: $(grep -m1 'assertion violated' pan.log | sed 's/^pan:1: //') $info" >result
    else
      { echo "FAIL the mutation was not caught (expected a violation of '$expect'; errors: ${nerr:-?}) $info";
        grep -m2 -E "assertion violated|pan:" pan.log; } >result
      return 1
    fi
    return 0
  fi
  local bad=""
  [ -n "$nerr" ] || bad="$bad; no 'errors:' line (pan exit $rc)"
  [ -z "$nerr" ] || [ "$nerr" -eq 0 ] || bad="$bad; errors: $nerr"
  grep -q "assertion violated" pan.log && bad="$bad; $(grep -m1 'assertion violated' pan.log | sed 's/^pan:1: //')"
  grep -q "invalid end state (" pan.log && bad="$bad; invalid end state"
  grep -qi "out of memory" pan.log && bad="$bad; out of memory"
  grep -q "memory limit" pan.log && bad="$bad; memory limit reached"
  if [ "$kind" = exhaustive ]; then
    grep -q "Search not completed" pan.log && bad="$bad; search not completed"
    grep -q "max search depth too small" pan.log && bad="$bad; depth limit reached"
  fi
  if [ -n "$bad" ]; then
    { echo "FAIL ${bad#; } $info";
      if [ -f claim.pml.trail ]; then
        echo "  counterexample (message sequence):"
        # shellcheck disable=SC2086
        "$spin" $dflags -t claim.pml 2>/dev/null | sed -n 's/^ *MSC: /    /p' | head -60
        echo "  $replay"
      fi; } >result
    return 1
  fi
  echo "ok   $info" >result
}

echo "claim model: $("$spin" -V 2>/dev/null | head -1); $jobs at a time${defines:+; extra: $defines}"
t0=$SECONDS
running=0
names=()
for r in "${runs[@]}"; do
  IFS='|' read -r name kind dflags expect <<<"$r"
  [ -z "$only" ] || [[ $name =~ $only ]] || continue
  if [ "$running" -ge "$jobs" ]; then wait -n; running=$((running - 1)); fi
  ( check "$name" "$kind" "$dflags $defines" "$expect" ) &
  running=$((running + 1))
  names+=("$name")
done
wait

status=0
for name in "${names[@]}"; do
  res=$(cat "$work/$name/result" 2>/dev/null || echo "FAIL (no result)")
  case $res in ok*) ;; *) status=1 ;; esac
  printf '%-27s %s\n' "$name" "$res"
done
echo "claim model: $((SECONDS - t0))s in all"
[ "$status" -eq 0 ] || { echo "claim model: FAIL"; exit 1; }
echo "claim model: all checks passed"
