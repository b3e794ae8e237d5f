#!/usr/bin/env bash
# Produces $BUILD/qemu-plugin/include/qemu-plugin.h: the TCG plugin API
# header of the QEMU that is installed, taken from Debian's `qemu` source
# package (bookworm ships it in no binary package). The bench's instruction
# counter (tests/bench/insn_plugin.c) is compiled against it. Nothing of QEMU
# is committed; the orig tarball is checked against the sha256 below.
#
#   tools/fetch-qemu-plugin-h.sh          BUILD defaults to <repo>/build
#   QEMU_TARBALL=/path/qemu_7.2+dfsg.orig.tar.xz tools/fetch-qemu-plugin-h.sh
#
# The source version fetched is the one qemu-system-x86 was built from
# (dpkg's ${source:Version}), so the header matches the binary that loads
# the plugin. Only the orig tarball is used: none of Debian's patches of
# 7.2+dfsg-7+deb12u18 (the upstream 7.2.x stable diffs included) touches
# include/qemu/qemu-plugin.h. Re-check that, and the pin, when the upstream
# version changes.
#
# Needs apt's source index (deb-src), which tools/fetch-lwip.sh enables on
# the first build of a fresh machine.
set -euo pipefail

QEMU_UPSTREAM=7.2+dfsg
QEMU_ORIG=qemu_${QEMU_UPSTREAM}.orig.tar.xz
QEMU_SHA256=91aca71520040edc40b8d437aa3004dae614f58e286cf653ee8996c07af2962f
MEMBER=qemu-7.2.0/include/qemu/qemu-plugin.h

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=$build/qemu-plugin/include
dl=$build/qemu-download

die() {
	echo "fetch-qemu-plugin-h: $*" >&2
	exit 1
}
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

[ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$QEMU_SHA256" ] && exit 0

mkdir -p "$build"
exec 9>"$build/.qemu-fetch.lock"
flock 9 2>/dev/null || true
[ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$QEMU_SHA256" ] && exit 0

ver=$(dpkg-query -W -f='${source:Version}' qemu-system-x86 2>/dev/null) ||
	die "qemu-system-x86 is not installed (tools/setup.sh run)"
case "$ver" in
*:"$QEMU_UPSTREAM"-* | "$QEMU_UPSTREAM"-*) ;;
*) die "installed QEMU is $ver; this script pins $QEMU_UPSTREAM (update the pin)" ;;
esac

if [ -n "${QEMU_TARBALL:-}" ]; then
	tarball=$QEMU_TARBALL
elif [ -f "$dl/$QEMU_ORIG" ] && [ "$(sha256_of "$dl/$QEMU_ORIG")" = "$QEMU_SHA256" ]; then
	tarball=$dl/$QEMU_ORIG
else
	rm -rf "$dl"
	mkdir -p "$dl"
	# apt drops privileges to _apt for downloads: let it write here.
	if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
		chown _apt "$dl"
	fi
	echo "fetch-qemu-plugin-h: apt-get source --download-only qemu=$ver" >&2
	(cd "$dl" && apt-get source -qq --download-only "qemu=$ver" >&2) ||
		die "apt-get source failed: apt needs its source index (deb-src);" \
			"tools/fetch-lwip.sh sets it up (or pass QEMU_TARBALL=)"
	tarball=$dl/$QEMU_ORIG
fi
[ -f "$tarball" ] || die "no $tarball"
got=$(sha256_of "$tarball")
if [ "$got" != "$QEMU_SHA256" ]; then
	echo "fetch-qemu-plugin-h: CHECKSUM MISMATCH for $tarball" >&2
	echo "fetch-qemu-plugin-h:   expected sha256 $QEMU_SHA256" >&2
	echo "fetch-qemu-plugin-h:   got      sha256 $got" >&2
	exit 1
fi
tmp=$(mktemp -d "$build/qemu-plugin.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" --no-same-owner "$MEMBER"
mkdir -p "$out"
mv "$tmp/$MEMBER" "$out/qemu-plugin.h"
echo "$QEMU_SHA256" >"$out/.stamp"
echo "fetch-qemu-plugin-h: $out/qemu-plugin.h (QEMU $ver)" >&2
