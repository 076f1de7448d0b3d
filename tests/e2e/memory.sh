#!/usr/bin/env bash
# Memory stays flat whatever the object size: put and get of a large object (default 1 GiB,
# E2E_MEMORY_MIB to change; the issue's 4 GiB figure: E2E_MEMORY_MIB=4096) stay under 64 MiB
# resident, measured by GNU time.
PORT_BASE=${PORT_BASE:-17180}
source "$(dirname "$0")/lib.sh"
command -v /usr/bin/time >/dev/null || fail "/usr/bin/time (Debian package 'time') is needed"
mib=${E2E_MEMORY_MIB:-1024}
start_units 6
# A pipe of zeros would compress nothing here; use a pattern that is not all zeros but cheap.
head -c $((1024 * 1024)) /dev/urandom >"$WORK/chunk"
gen() { for ((i = 0; i < mib; i++)); do cat "$WORK/chunk"; done; }
gen | /usr/bin/time -f "%M" -o "$WORK/put.rss" "$DSENC" put big || fail "put of $mib MiB"
sum_in=$(gen | md5sum)
sum_out=$(/usr/bin/time -f "%M" -o "$WORK/get.rss" "$DSENC" get big | md5sum)
[ "$sum_in" = "$sum_out" ] || fail "get of $mib MiB differs"
put_kib=$(tail -1 "$WORK/put.rss")
get_kib=$(tail -1 "$WORK/get.rss")
note "RSS for $mib MiB: put $((put_kib / 1024)) MiB, get $((get_kib / 1024)) MiB"
[ "$put_kib" -le $((64 * 1024)) ] || fail "put RSS $put_kib KiB > 64 MiB"
[ "$get_kib" -le $((64 * 1024)) ] || fail "get RSS $get_kib KiB > 64 MiB"
echo "PASS memory"
