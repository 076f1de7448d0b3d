#!/usr/bin/env bash
# Install rules and the Debian package, from a finished build:
#  1. `cmake --install` into a temp DESTDIR installs exactly the expected files;
#  2. cpack makes dstk_<version>_amd64.deb (in a temp dir) whose control fields name the
#     Debian runtime libraries (dpkg-shlibdeps) and whose contents match the install;
#  3. the package's binaries, unpacked with `dpkg -x`, answer --help and store and read back
#     an object on three of the package's own dsnodes;
#  4. Debian policy on docs: man pages gzip -9n compressed, a DEP-5 copyright file in
#     /usr/share/doc/dstk; and, where lintian is installed (scripts/setup installs it), lintian
#     finds nothing but the tags allowed below. (A real `apt-get install` on a fresh
#     Debian 12 needs a package mirror and ~20 minutes: it is checked by hand, not here.)
# Needs DSTK_BUILD_DIR (the build directory; DSTK_BIN is derived from it), built: cpack first runs
# the build's preinstall target, which rebuilds whatever is out of date (slow, inside a test).
PORT_BASE=${PORT_BASE:-17340}
: "${DSTK_BUILD_DIR:?DSTK_BUILD_DIR must point at a finished build}"
export DSTK_BIN=${DSTK_BIN:-$DSTK_BUILD_DIR/tools}
source "$(dirname "$0")/lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
for t in dpkg-deb dpkg-shlibdeps file cpack; do
  command -v "$t" >/dev/null || fail "$t is not installed (scripts/setup installs dpkg-dev and file)"
done
version=$("$DSTK_BUILD_DIR/tools/dsenc/dsenc" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)
[ -n "$version" ] || fail "no version from dsenc --version"

# The files an install must hold (relative to the prefix /usr), from the source tree.
{
  for t in dsenc dsnode dsclaim dsrun; do
    echo "bin/$t"
    echo "share/bash-completion/completions/$t"
  done
  for p in "$SRC"/man/*.[178]; do echo "share/man/man${p##*.}/${p##*/}.gz"; done
  echo "lib/systemd/system/dsnode@.service"
  echo "share/doc/dstk/README.md"
  echo "share/doc/dstk/copyright"
  for d in "$SRC"/docs/*.md; do echo "share/doc/dstk/${d##*/}"; done
} | sort >"$WORK/expected"

note "cmake --install into a DESTDIR"
DESTDIR="$WORK/destdir" cmake --install "$DSTK_BUILD_DIR" --prefix /usr >"$WORK/install.log" 2>&1 \
  || fail "cmake --install failed: $(cat "$WORK/install.log")"
(cd "$WORK/destdir/usr" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$WORK/installed"
diff -u "$WORK/expected" "$WORK/installed" >"$WORK/diff" \
  || fail "installed files differ from the expected list (- expected, + installed): $(cat "$WORK/diff")"
d=$WORK/destdir/usr
for t in dsnode dsclaim dsrun; do
  [ "$(readlink "$d/share/bash-completion/completions/$t")" = dsenc ] \
    || fail "completions/$t is not a symlink to dsenc"
done
for t in dsenc dsnode dsclaim dsrun; do
  [ -x "$d/bin/$t" ] || fail "bin/$t is not executable"
  # bash-completion sources completions/NAME when NAME is first completed.
  got=$(bash -c 'source "$1" && complete -p "$2"' _ "$d/share/bash-completion/completions/$t" "$t") \
    || fail "sourcing completions/$t does not register a completion for $t"
  [ "$got" = "complete -F _$t $t" ] || fail "completions/$t registers '$got'"
done

note "cpack -G DEB"
cpack -G DEB --config "$DSTK_BUILD_DIR/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.log" 2>&1 \
  || fail "cpack failed: $(tail -n 30 "$WORK/cpack.log")"
deb=$WORK/pkg/dstk_${version}_amd64.deb
[ -f "$deb" ] || fail "no $deb; cpack made: $(ls "$WORK/pkg")"
dpkg-deb -f "$deb" Package Version Architecture Section Maintainer Depends >"$WORK/control"
field() { sed -n "s/^$1: //p" "$WORK/control"; }
[ "$(field Package)" = dstk ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version" ] || fail "Version: $(field Version), expected $version"
[ "$(field Architecture)" = amd64 ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
maintainer_re='^[^<]+ <[^@ ]+@[^> ]+>$'
[[ "$(field Maintainer)" =~ $maintainer_re ]] || fail "Maintainer: '$(field Maintainer)'"
# (No `| grep -q` on a command's output here: with pipefail, grep quitting early fails the pipe.)
description=$(dpkg-deb -f "$deb" Description)
if [[ "$(head -n 1 <<<"$description")" != *"erasure-coded objects"* ]] \
  || [ "$(wc -l <<<"$description")" -lt 2 ]; then
  fail "Description: $description"
fi
depends=$(field Depends)
# The shared libraries the binaries link (ldd) must each come with their Debian package.
for lib in libisal2 libzmq5 'libstdc++6' libc6 libgcc-s1; do
  [[ ", $depends," == *", $lib "* ]] || [[ ", $depends," == *", $lib,"* ]] \
    || fail "Depends lacks $lib: $depends"
done
# package_of FILE: the Debian package owning FILE (tried as given, resolved, with and without
# /usr, since ldd and dpkg may disagree on a merged-/usr system), or nothing.
package_of() {
  local real p
  real=$(readlink -f "$1")
  for p in "$1" "$real" "${real#/usr}" "/usr$1"; do
    dpkg -S "$p" 2>/dev/null | head -n 1 | cut -d: -f1 && return 0
  done
  return 0
}
# The binaries' own NEEDED entries (what dpkg-shlibdeps looks at), not ldd's whole tree.
for bin in dsenc dsnode dsclaim dsrun; do
  b=$DSTK_BUILD_DIR/tools/$bin/$bin
  for soname in $(readelf -d "$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    ldd "$b" | awk -v s="$soname" '$1 == s && $2 == "=>" {print $3}'
  done
done | sort -u >"$WORK/needed"
[ -s "$WORK/needed" ] || fail "no NEEDED libraries found in the binaries"
while read -r sofile; do
  owner=$(package_of "$sofile")
  [ -n "$owner" ] || continue
  [[ ", $depends," == *", $owner "* || ", $depends," == *", $owner,"* ]] \
    || fail "the binaries link $sofile (package $owner) but Depends lacks it: $depends"
done <"$WORK/needed"
# Contents: the same files as the install, under /usr, root-owned.
dpkg-deb -c "$deb" >"$WORK/contents"
awk '$1 !~ /^d/ {print $6}' "$WORK/contents" | sed 's|^\./usr/||' | sort >"$WORK/packaged"
diff -u "$WORK/expected" "$WORK/packaged" >"$WORK/diff" \
  || fail "packaged files differ from the expected list: $(cat "$WORK/diff")"
awk '$2 != "root/root" {bad = 1} END {exit !bad}' "$WORK/contents" && fail "files not owned by root/root"
grep -q '^-rwxr-xr-x .* \./usr/bin/dsnode$' "$WORK/contents" || fail "usr/bin/dsnode not 0755"
grep -q '^l.* \./usr/share/bash-completion/completions/dsrun -> dsenc$' "$WORK/contents" \
  || fail "completions/dsrun is not a symlink in the package"
# Man pages only compressed (the list above names PAGE.gz), and a DEP-5 copyright file.
grep -qE '\./usr/share/man/man[178]/[^ ]*\.[178]$' "$WORK/contents" \
  && fail "an uncompressed man page in the package: $(grep -E '\.[178]$' "$WORK/contents")"
grep -q '^-rw-r--r-- .* \./usr/share/man/man1/dsenc\.1\.gz$' "$WORK/contents" \
  || fail "usr/share/man/man1/dsenc.1.gz missing or not 0644"
grep -q '^-rw-r--r-- .* \./usr/share/doc/dstk/copyright$' "$WORK/contents" \
  || fail "usr/share/doc/dstk/copyright missing or not 0644"

note "dpkg -x, then the package's own binaries"
root=$WORK/root
dpkg -x "$deb" "$root"
for t in dsenc dsnode dsclaim dsrun; do
  "$root/usr/bin/$t" --help >"$WORK/help" 2>&1 || fail "$t --help from the package failed"
  grep -q "^Usage: .*$t" "$WORK/help" || fail "$t --help: $(head -n 3 "$WORK/help")"
  [ "$("$root/usr/bin/$t" --version)" = "$("$DSTK_BIN/$t/$t" --version)" ] \
    || fail "$t --version differs from the build's"
done
# Each packaged page is its source, compressed by `gzip -9nc` (no name nor time in the header,
# so it is the same on every build), and is roff: its first line is the .TH title.
for p in "$SRC"/man/*.[178]; do
  gz=$root/usr/share/man/man${p##*.}/${p##*/}.gz
  gzip -9nc "$p" | cmp -s - "$gz" || fail "${gz#"$root"} is not \`gzip -9nc man/${p##*/}\`"
  [[ "$(zcat "$gz" | head -n 1)" == ".TH "* ]] || fail "zcat ${gz#"$root"} does not start with .TH"
done
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$root/usr/share/man/man1/dsenc.1.gz" >"$WORK/man" 2>&1 \
    || fail "man -l dsenc.1.gz: $(head -n 5 "$WORK/man")"
  grep -q '^NAME' "$WORK/man" || fail "man -l dsenc.1.gz shows no NAME: $(head -n 5 "$WORK/man")"
fi
copyright=$root/usr/share/doc/dstk/copyright
[ "$(head -n 1 "$copyright")" = \
  "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" ] \
  || fail "copyright is not DEP-5: $(head -n 1 "$copyright")"
grep -qx 'Upstream-Name: dstk' "$copyright" || fail "copyright has no Upstream-Name: dstk"
grep -qx 'Files: \*' "$copyright" || fail "copyright has no Files: * paragraph"
grep -qxF "Upstream-Contact: $(field Maintainer)" "$copyright" \
  || fail "copyright's Upstream-Contact is not the Maintainer $(field Maintainer)"

# lintian, where installed (scripts/setup installs it): no error nor warning, but for the tags
# allowed here (comma-separated), each for its reason:
#   no-changelog: dstk keeps no Debian changelog (usr/share/doc/dstk/changelog.gz); the package is
#     made by CPack from a tree without debian/, and its history is the git log.
if command -v lintian >/dev/null; then
  note "lintian"
  allowed=no-changelog
  lintian --fail-on error,warning --suppress-tags "$allowed" "$deb" >"$WORK/lintian" 2>&1 \
    || fail "lintian: $(cat "$WORK/lintian")"
else
  note "lintian not installed: skipped (scripts/setup installs it)"
fi

unit=$root/usr/lib/systemd/system/dsnode@.service
grep -qx 'Type=notify' "$unit" || fail "dsnode@.service is not Type=notify"
exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
[ -x "$root$exec_path" ] || fail "the unit's ExecStart $exec_path is not in the package"
# shellcheck disable=SC2034  # used by start_units (lib.sh)
DSNODE=$root/usr/bin/dsnode
DSENC=$root/usr/bin/dsenc
start_units 3
random_file "$WORK/in" 3000000
expect_rc 0 "$DSENC" -k 2 put pkg/obj "$WORK/in"
"$DSENC" -k 2 get pkg/obj >"$WORK/out" || fail "get with the packaged dsenc failed"
cmp -s "$WORK/in" "$WORK/out" || fail "the packaged dsenc read back other bytes"
"$DSENC" stat pkg/obj >"$WORK/stat" || fail "stat with the packaged dsenc failed"
for i in 0 1 2; do kill_unit "$i" TERM; done
echo "package: $(basename "$deb") ok; Depends: $depends"
