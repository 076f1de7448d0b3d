# Shared helpers of the multi-host tests (netns.sh, netns_hosts.sh): hosts are network
# namespaces, each behind its own veth pair, on a /24 of 10.213.0.0/16 that this machine does
# not use. The namespaces have no default route and forwarding is not touched, so nothing here
# can reach or be reached from beyond this host. Sourced, not run.
#
# Source it first (it may exit 77, "skipped"), then lib.sh, then call netns_setup.

# Needs root (ip netns, veth). Not root: exit 77, which ctest reports as skipped
# (SKIP_RETURN_CODE), and so does a chroot: there / is not a mount point and `ip netns` cannot
# make its mounts (it fails with "mount --make-rslave / failed"); on a machine or a container
# it always is.
netns_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "SKIP $1: needs root to create network namespaces and veth pairs" >&2
    exit 77
  fi
  if command -v mountpoint >/dev/null && ! mountpoint -q /; then
    echo "SKIP $1: / is not a mount point (a chroot): ip netns cannot work here" >&2
    exit 77
  fi
}

TAG="t$$"  # names carry our pid: a parallel run never touches ours
declare -a NS=() HOSTIF=() HADDR=()

# Everything made goes, whatever happened: processes first (they live in the namespaces), then
# the veths (deleting one end deletes its peer) and the namespaces, then lib.sh's cleanup.
netns_cleanup() {
  set +e  # every step runs even when one fails (a unit already gone, a link never made)
  local i p
  for i in "${!UNIT_PID[@]}"; do
    [ -n "${UNIT_PID[$i]:-}" ] && kill -TERM "${UNIT_PID[$i]}" 2>/dev/null
  done
  sleep 0.2  # a unit stops cleanly on SIGTERM; whatever is left in our namespaces is killed
  for i in "${!NS[@]}"; do
    for p in $(ip netns pids "${NS[$i]}" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  wait 2>/dev/null
  for i in "${!NS[@]}"; do
    [ -n "${HOSTIF[$i]:-}" ] && ip link del "${HOSTIF[$i]}" 2>/dev/null
    ip netns del "${NS[$i]}" 2>/dev/null
  done
  cleanup
}

# netns_setup: installs the cleanup, picks X, a 10.213.X.0/24 no interface here uses yet, and
# makes the client's key pair ($WORK/client.key, DSTK_KEY), the only key the units allow.
netns_setup() {
  trap netns_cleanup EXIT
  "$DSENC" keygen "$WORK/client.key" >/dev/null || fail "keygen (client)"
  cp "$WORK/client.key.pub" "$WORK/allow"
  export DSTK_KEY="$WORK/client.key"
  local try c
  X=""
  for ((try = 0; try < 50; try++)); do
    c=$(((($$ + try) % 200) + 20))
    ip -4 addr show | grep -q "inet 10\.213\.$c\." || { X=$c; break; }
  done
  [ -n "$X" ] || fail "no free 10.213.X.0/24 on this host"
}

# netns_make_host H NAME: host H, namespace dstk-TAG-NAME, on the /30 10.213.X.4H: the host
# side is .4H+1 (HOSTIF[H]), the namespace side .4H+2 (HADDR[H]).
netns_make_host() {
  local h=$1
  NS[$h]="dstk-$TAG-$2"
  HOSTIF[$h]="ds${TAG}h$h"
  HADDR[$h]="10.213.$X.$((4 * h + 2))"
  ip netns add "${NS[$h]}" || fail "cannot create network namespace ${NS[$h]} (ip netns add)"
  ip link add "${HOSTIF[$h]}" type veth peer name "ds${TAG}n$h" ||
    fail "cannot create a veth pair (is the veth module available?)"
  ip link set "ds${TAG}n$h" netns "${NS[$h]}"
  ip addr add "10.213.$X.$((4 * h + 1))/30" dev "${HOSTIF[$h]}"
  ip link set "${HOSTIF[$h]}" up
  ip -n "${NS[$h]}" addr add "${HADDR[$h]}/30" dev "ds${TAG}n$h"
  ip -n "${NS[$h]}" link set "ds${TAG}n$h" up
  ip -n "${NS[$h]}" link set lo up
}

# claimed_exactly_once N CLAIMER_OPTION...: two claimers race for the rest of queue q; with the
# claims already in $WORK/claims.during, the keys claimed must be exactly the N acknowledged
# pushes in $WORK/pushed, each once, and the queue then empty.
claimed_exactly_once() {
  local want=$1 p1 p2
  shift
  "$DSCLAIM" "$@" q --json >"$WORK/claims.1" 2>"$WORK/claim1.err" &
  p1=$!
  "$DSCLAIM" "$@" q --json >"$WORK/claims.2" 2>"$WORK/claim2.err" &
  p2=$!
  wait "$p1" || true
  wait "$p2" || true
  cat "$WORK/claims.during" "$WORK/claims.1" "$WORK/claims.2" |
    sed -n 's/.*"key":"\([^"]*\)".*/\1/p' | sort >"$WORK/claimed"
  sort "$WORK/pushed" >"$WORK/pushed.sorted"
  [ "$(wc -l <"$WORK/pushed.sorted")" = "$want" ] ||
    fail "expected $want acknowledged pushes: $(cat "$WORK/pushed")"
  cmp -s "$WORK/claimed" "$WORK/pushed.sorted" ||
    fail "claims differ from acknowledged pushes: claimed [$(tr '\n' ' ' <"$WORK/claimed")]," \
      "pushed [$(tr '\n' ' ' <"$WORK/pushed.sorted")]; $(cat "$WORK"/claim*.err)"
  expect_rc 1 "$DSCLAIM" "$@" q
}

# netns_start_unit I H ENDPOINT: unit I in host H's namespace, listening on ENDPOINT, with its
# key ($WORK/unitI.key) and the client allow-list ($WORK/allow).
netns_start_unit() {
  local i=$1
  : >"$WORK/unit$i.log.new"
  rm -f "$WORK/unit$i.ready"
  ip netns exec "${NS[$2]}" "$DSNODE" --dir "$WORK/unit$i" \
    --listen "$3" --key "$WORK/unit$i.key" --allow "$WORK/allow" \
    --ready-file "$WORK/unit$i.ready" 2>>"$WORK/unit$i.log.new" &
  UNIT_PID[$i]=$!  # ip netns exec execs the command: this is dsnode's pid
  wait_ready "$i" 250
}

link() { ip link set "${HOSTIF[$1]}" "$2"; }  # link H up|down: the host side of host H's veth
