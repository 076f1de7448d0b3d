#!/usr/bin/env bash
# Message sequence charts of the claim on 5 units (k=3, q=3): dsclaim --trace=msc writes one
# timestamped mscgen arrow line per message, dsclaim --msc-chart sorts the lines of any number of
# claimers by time and wraps them into a chart, and mscgen draws it. Checked for one claim and
# for two claimers colliding on a key (made deterministic with --step): the chart holds every
# arrow of the traces exactly once, in time order, with as many arrows of each kind
# (lock_read_delete, promise, commit, accept, release, locked, conflict) as the traces have
# messages of it; every claimer and unit it uses is declared; mscgen -T png draws it into a real
# PNG (signature, IHDR) whose width and height fit the entities and arrows. Also the filter's
# errors and the CLI around it (plain --trace unchanged, --trace=FORMAT only with "=").
PORT_BASE=${PORT_BASE:-17460}
source "$(dirname "$0")/lib.sh"
DSCLAIM="$DSTK_BIN/dsclaim/dsclaim"
command -v mscgen >/dev/null || fail "mscgen is needed (scripts/setup installs it)"
command -v script >/dev/null || fail "script(1) (util-linux) is needed"
start_units 5
cd "$WORK"

KINDS="lock_read_delete promise commit accept release locked conflict"
# trace_arcs FILE...: the arcs of the arrow lines in FILE..., in time order (ties: as given).
trace_arcs() {
  cat "$@" | grep '^dsclaim: msc ' | sort -s -t ' ' -k 3,3 | sed 's/^dsclaim: msc [0-9]*\.[0-9]\{6\} //'
}
# chart_arcs CHART: the chart's arrows, in its order.
chart_arcs() { sed -n 's/^  \([cu][0-9a-f]* \(=>\|->\|>>\) [cu][0-9a-f]* \[.*\];\)$/\1/p' "$1"; }
# kind_count KIND: arcs on stdin whose label starts with KIND.
kind_count() { grep -c "\[label=\"$1\\\\n" || true; }

# check_chart CHART TRACE...: the chart is the traces' arrows, sorted, with every entity declared.
check_chart() {
  local chart=$1 kind want got
  shift
  trace_arcs "$@" >arcs.trace
  chart_arcs "$chart" >arcs.chart
  [ -s arcs.trace ] || fail "no arrow lines in $*"
  cmp -s arcs.trace arcs.chart ||
    fail "$chart is not the arrows of $* in time order: $(diff arcs.trace arcs.chart | head -n 20)"
  [ "$(grep -c '^  [cu][0-9a-f]* \(=>\|->\|>>\) ' "$chart")" = "$(wc -l <arcs.chart)" ] ||
    fail "$chart has arrows not in the form the traces write"
  for kind in $KINDS; do
    want=$(cat "$@" | grep '^dsclaim: msc ' | kind_count "$kind")
    got=$(kind_count "$kind" <"$chart")
    [ "$want" = "$got" ] || fail "$chart: $got $kind arrows, the traces have $want"
  done
  # Entities: declared (between "msc {" and the first arrow) = used, each once.
  sed -n 's/^  \([cu][0-9a-f]*\) \[label="\(claimer\|unit\) [0-9a-f]*"\][,;]$/\1/p' "$chart" | sort >declared
  awk '{ print $1; print $3 }' arcs.chart | sort -u >used
  [ "$(sort -u declared | wc -l)" = "$(wc -l <declared)" ] || fail "$chart declares an entity twice"
  cmp -s declared used || fail "$chart: declared $(tr '\n' ' ' <declared), used $(tr '\n' ' ' <used)"
  sed -n '/^msc {/,/\];$/p' "$chart" | sed -n 's/^  \([cu][0-9a-f]*\) \[label=.*/\1/p' >order
  head -n 1 order | grep -q '^c' || fail "$chart: the first entity is not a claimer: $(cat order)"
  [ "$(grep '^u' order | tr '\n' ' ')" = "u0 u1 u2 u3 u4 " ] || fail "$chart: units $(cat order)"
}

# u32 FILE OFFSET: the big-endian 32-bit number at OFFSET of FILE.
u32() { od -An -tu1 -j "$2" -N 4 "$1" | awk '{ print ((($1 * 256) + $2) * 256 + $3) * 256 + $4 }'; }
# check_png CHART: mscgen draws CHART into a PNG whose size fits its entities and arrows.
check_png() {
  local chart=$1 png=${1%.msc}.png entities arrows width height
  mscgen -T png -o "$png" "$chart" 2>mscgen.err || fail "mscgen -T png $chart: $(cat mscgen.err)"
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$png is no PNG"
  [ "$(head -c 16 "$png" | tail -c 4)" = IHDR ] || fail "$png: no IHDR chunk first"
  width=$(u32 "$png" 16) height=$(u32 "$png" 20)
  entities=$(wc -l <declared) arrows=$(wc -l <arcs.chart)
  # The chart asks mscgen for a column of 200 pixels per entity; each arrow takes a row of
  # about 40 (two lines of label).
  [ "$width" -ge $((100 * entities)) ] && [ "$width" -le $((1000 * entities)) ] ||
    fail "$png is $width pixels wide for $entities entities"
  [ "$height" -ge $((15 * arrows)) ] && [ "$height" -le $((100 * arrows + 200)) ] ||
    fail "$png is $height pixels high for $arrows arrows"
  note "  $png: ${width}x$height pixels, $(wc -c <"$png") bytes, $entities entities, $arrows arrows"
}

# --- one claim -----------------------------------------------------------------------------------
"$DSENC" push one -- echo one >one.key
"$DSCLAIM" one --trace=msc --max 1 --json >one.out 2>one.err || fail "claim: $(cat one.err)"
grep -qF "\"key\":\"$(cat one.key)\"" one.out || fail "no claim: $(cat one.out)"
grep -v '^dsclaim: msc ' one.err && fail "--trace=msc wrote other lines"
"$DSCLAIM" --msc-chart <one.err >one.msc || fail "--msc-chart: $(cat one.msc)"
check_chart one.msc one.err
c=$(head -n 1 declared)
key=$(cat one.key)
short="one/..${key: -13}" # one/..TTTT-PPPPPPPP: the last 4 digits of the push time, the producer
for u in 0 1 2 3 4; do
  grep -qxF "  $c => u$u [label=\"lock_read_delete\\n$short 1/${c#c}\"];" one.msc ||
    fail "one.msc: no lock_read_delete to unit $u with the short key and ballot 1/${c#c}: $(cat one.msc)"
done
count_kind() { kind_count "$1" <one.msc; }
[ "$(count_kind lock_read_delete)" = 5 ] && [ "$(count_kind commit)" = 5 ] ||
  fail "one claim: $(count_kind lock_read_delete) lock_read_delete, $(count_kind commit) commit arrows"
for k in promise accept; do
  [ "$(count_kind $k)" -ge 3 ] && [ "$(count_kind $k)" -le 5 ] || fail "one claim: $(count_kind $k) $k arrows"
done
[ "$(count_kind locked)$(count_kind conflict)$(count_kind release)" = 000 ] || fail "one claim: refusals"
check_png one.msc
note "one claim: $(wc -l <arcs.chart) arrows, each kind as often as in the trace; PNG drawn"

# --- two claimers colliding ----------------------------------------------------------------------
# A (--step, its terminal from script(1)) holds promises from a quorum when B tries the key: B
# is refused "locked", releases and gives up; then A commits.
"$DSENC" push race -- echo race >race.key
mkfifo enter
script -qfec "$DSCLAIM race --trace=msc --step --max 1 --json" /dev/null <enter >a.tty 2>&1 &
a_pid=$!
exec 3>enter
wait_tty() { # wait_tty STRING: until A's terminal shows STRING (10 s)
  local tries=0
  until grep -qF -e "$1" a.tty; do
    tries=$((tries + 1))
    [ $tries -lt 500 ] || fail "no '$1' from claimer A: $(cat a.tty)"
    sleep 0.02
  done
}
wait_tty "next: phase 1"
echo >&3
wait_tty "next: phase 2"
expect_rc 1 "$DSCLAIM" race --trace=msc --max 1 --json
cp "$WORK/err" b.err
echo >&3
exec 3>&-
wait $a_pid || fail "claimer A: $(cat a.tty)"
tr -d '\r' <a.tty >a.err
grep -qF "\"key\":\"$(cat race.key)\"" a.err || fail "A did not claim the key: $(cat a.err)"
# The student's way: both traces through one pipe (here one after the other; the filter sorts).
cat b.err a.err | "$DSCLAIM" --msc-chart >race.msc || fail "--msc-chart: $(cat race.msc)"
check_chart race.msc a.err b.err
[ "$(grep -c '^c' order)" = 2 ] || fail "race.msc: not two claimers: $(cat order)"
[ "$(tail -n 1 order)" != "$(head -n 1 order)" ] && grep -q '^c' <(tail -n 1 order) ||
  fail "race.msc: the second claimer is not on the right: $(cat order)"
[ "$(kind_count locked <race.msc)" -ge 3 ] || fail "race.msc: B was not refused by a quorum"
r=$(kind_count release <race.msc)
[ "$r" -ge 5 ] && [ $((r % 5)) = 0 ] || fail "race.msc: $r releases, not all five units each time"
grep -q '>> c[0-9a-f]* \[label="locked\\n.* promised 1/[0-9a-f]*", linecolour="red", textcolour="red"\];' race.msc ||
  fail "race.msc: a refusal does not name the promised ballot in red: $(cat race.msc)"
check_png race.msc
cat a.err b.err | "$DSCLAIM" --msc-chart | cmp - race.msc || fail "the chart depends on the input order"
note "two claimers: $(wc -l <arcs.chart) arrows, $(kind_count locked <race.msc) locked, $r releases; PNG drawn"

# --- the filter's errors and the CLI -------------------------------------------------------------
echo "dsclaim: queue race is empty" | expect_rc 1 "$DSCLAIM" --msc-chart
grep -qF "no msc trace lines" "$WORK/err" || fail "empty input: $(cat "$WORK/err")"
{ head -n 2 one.err; echo "dsclaim: msc 12 c1 => u0 [label=\"x\"];"; } | expect_rc 2 "$DSCLAIM" --msc-chart
grep -qF "line 3: the time is not SECONDS.MICROS" "$WORK/err" || fail "bad line: $(cat "$WORK/err")"
expect_rc 2 "$DSCLAIM" --msc-chart race
grep -qF -- "--msc-chart excludes QUEUE" "$WORK/err" || fail "--msc-chart QUEUE: $(cat "$WORK/err")"
expect_rc 2 "$DSCLAIM"
grep -qF "QUEUE is required" "$WORK/err" || fail "no QUEUE: $(cat "$WORK/err")"
expect_rc 2 "$DSCLAIM" race --trace=pictures
grep -qF "text or msc" "$WORK/err" || fail "--trace=pictures: $(cat "$WORK/err")"
# Plain --trace is the text trace, also right before QUEUE (it takes no value from the next word).
"$DSENC" push text -- echo text >/dev/null
"$DSCLAIM" --trace text --max 1 --json >text.out 2>text.err || fail "--trace QUEUE: $(cat text.err)"
grep -q '^dsclaim: -> unit 0 (tcp://127.0.0.1:[0-9]*) lock_read_delete text/' text.err ||
  fail "plain --trace: $(cat text.err)"
grep -q '^dsclaim: msc ' text.err && fail "plain --trace wrote msc lines"
note "filter: input without arrows exits 1, a bad arrow line 2 with its line number; --trace as before"
echo "PASS charts"
