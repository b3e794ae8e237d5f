#!/usr/bin/env bash
# Produces $BUILD/lwip-src/: the unpacked upstream tree of Debian's `lwip`
# source package (src/ with its include dirs). Nothing of lwIP is committed;
# this script fetches it with apt, checks the orig tarball against the sha256
# below and unpacks it.
#
#   tools/fetch-lwip.sh                 BUILD defaults to <repo>/build
#   LWIP_TARBALL=/path/lwip_2.1.3+dfsg1.orig.tar.xz tools/fetch-lwip.sh
#
# Idempotent: when $BUILD/lwip-src/.stamp holds the expected checksum nothing
# is done. Fetching needs Debian's source index (deb-src). When it is missing
# this script derives it from the machine's own apt configuration: every
# Debian `deb` entry (deb822 stanza or one-line) is copied as `deb-src`;
# third-party repositories are skipped because most publish no sources. As
# root it writes the files and runs apt-get update; otherwise it prints the
# exact commands and fails.
#
# Only the orig tarball is used, unpacked with tar (no dpkg-source): the
# Debian patches of 2.1.3+dfsg1-2 change nothing Skiff compiles (see the note
# at the end of this file), so the code we build is upstream 2.1.3 as
# repacked by Debian.
set -euo pipefail

# The upstream version we build against and its orig tarball's sha256. The
# Debian revision may move (bookworm's security or point updates); the orig
# tarball of one upstream version cannot, so the checksum pins the code.
LWIP_UPSTREAM=2.1.3+dfsg1
LWIP_ORIG=lwip_${LWIP_UPSTREAM}.orig.tar.xz
LWIP_SHA256=0a8276d09fc4e97bbba2f953d74af2388fc2195ea156be9d7589e297a68fde24

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
out=$build/lwip-src
dl=$build/lwip-download
apt_file_822=/etc/apt/sources.list.d/skiff-deb-src.sources
apt_file_list=/etc/apt/sources.list.d/skiff-deb-src.list

die() {
	echo "fetch-lwip: $*" >&2
	exit 1
}
log() { echo "fetch-lwip: $*" >&2; }

if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$LWIP_SHA256" ]; then
	exit 0
fi

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---- deb-src derivation ----------------------------------------------------

# A stanza or line is Debian's when its URI's last path element is `debian`
# or `debian-security` (every Debian mirror and snapshot archive is laid out
# so), or when it is signed by the Debian archive keyring.

# Prints deb822 stanzas (Types: deb -> deb-src) for the Debian stanzas of the
# given .sources files. Disabled stanzas and stanzas that already list
# deb-src are skipped.
derive_deb822() {
	awk '
	function flush(   i, t, debian, keep) {
		if (n == 0) return
		t = tolower(types); debian = 0
		if (uris ~ /\/debian(-security)?\/?([ \t]|$)/) debian = 1
		if (signed ~ /debian-archive-keyring/) debian = 1
		keep = (t ~ /(^|[ \t])deb([ \t]|$)/) && (t !~ /deb-src/) &&
		    (tolower(enabled) !~ /^[ \t]*no/) && debian
		if (keep) {
			printf "# Derived from %s by tools/fetch-lwip.sh\n", src[1]
			for (i = 1; i <= n; i++) {
				if (lines[i] ~ /^Types:/) print "Types: deb-src"
				else print lines[i]
			}
			print ""
		}
		n = 0; types = ""; uris = ""; signed = ""; enabled = ""
	}
	FNR == 1 { flush() }
	/^[ \t]*$/ { flush(); next }
	/^#/ { next }
	{
		lines[++n] = $0; src[n] = FILENAME
		if ($0 ~ /^[^ \t]/) field = $1
		if ($0 ~ /^Types:/) types = substr($0, 7)
		else if ($0 ~ /^URIs:/) uris = uris " " substr($0, 6)
		else if ($0 ~ /^Enabled:/) enabled = substr($0, 9)
		else if (field == "Signed-By:") signed = signed " " $0
		else if (field == "URIs:") uris = uris " " $0
	}
	END { flush() }
	' "$@"
}

# Prints `deb-src` one-line entries for the Debian `deb` lines of the given
# one-line files.
derive_oneline() {
	awk '
	/^[ \t]*deb[ \t]/ {
		line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
		opts = ""
		if (line ~ /^\[/) {
			opts = substr(line, 1, index(line, "]"))
			line = substr(line, index(line, "]") + 1)
			sub(/^[ \t]+/, "", line)
		}
		split(line, f, /[ \t]+/)
		debian = (f[1] ~ /\/debian(-security)?\/?$/) ||
		    (opts ~ /debian-archive-keyring/)
		if (!debian) next
		printf "deb-src %s%s%s\n", opts, (opts == "" ? "" : " "), line
	}
	' "$@"
}

# True when apt has at least one source-index target configured.
have_deb_src() {
	# shellcheck disable=SC2016 # $(IDENTIFIER) is apt's field, not the shell's.
	apt-get indextargets --format '$(IDENTIFIER)' 2>/dev/null | grep -qx Sources
}

# True when apt knows a source package lwip of our upstream version; prints
# the newest such version.
lwip_version() {
	apt-cache showsrc lwip 2>/dev/null |
		awk -v up="$LWIP_UPSTREAM" '/^Version:/ && index($2, up "-") == 1 { print $2 }' |
		sort -V | tail -n1 | grep .
}

enable_deb_src() {
	local sources822=() sourceslist=() f tmp822 tmplist
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] && [ "$f" != "$apt_file_822" ] && sources822+=("$f")
	done
	[ -f /etc/apt/sources.list ] && sourceslist+=(/etc/apt/sources.list)
	for f in /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] && [ "$f" != "$apt_file_list" ] && sourceslist+=("$f")
	done
	tmp822=$(mktemp)
	tmplist=$(mktemp)
	[ ${#sources822[@]} -eq 0 ] || derive_deb822 "${sources822[@]}" >"$tmp822"
	[ ${#sourceslist[@]} -eq 0 ] || derive_oneline "${sourceslist[@]}" >"$tmplist"
	if [ ! -s "$tmp822" ] && [ ! -s "$tmplist" ]; then
		rm -f "$tmp822" "$tmplist"
		die "no Debian 'deb' entry found in /etc/apt to derive a 'deb-src' from;" \
			"add one by hand, or pass LWIP_TARBALL=/path/to/$LWIP_ORIG"
	fi
	if [ "$(id -u)" -ne 0 ]; then
		{
			echo "fetch-lwip: lwIP comes from Debian's 'lwip' source package, and apt has"
			echo "no source index (deb-src). Enable it, derived from your apt sources, as root:"
			echo
			if [ -s "$tmp822" ]; then
				echo "cat > $apt_file_822 <<'EOF'"
				cat "$tmp822"
				echo "EOF"
			fi
			if [ -s "$tmplist" ]; then
				echo "cat > $apt_file_list <<'EOF'"
				cat "$tmplist"
				echo "EOF"
			fi
			echo "apt-get update"
			echo
			echo "or pass LWIP_TARBALL=/path/to/$LWIP_ORIG (sha256 $LWIP_SHA256)."
		} >&2
		rm -f "$tmp822" "$tmplist"
		exit 1
	fi
	if [ -s "$tmp822" ]; then
		install -m 0644 "$tmp822" "$apt_file_822"
		log "wrote $apt_file_822"
	fi
	if [ -s "$tmplist" ]; then
		install -m 0644 "$tmplist" "$apt_file_list"
		log "wrote $apt_file_list"
	fi
	rm -f "$tmp822" "$tmplist"
}

apt_update() {
	if [ "$(id -u)" -ne 0 ]; then
		die "apt's source index is configured but not downloaded; run as root:" \
			"apt-get update"
	fi
	log "apt-get update"
	apt-get update -qq >&2
}

# ---- fetch -----------------------------------------------------------------

fetch_with_apt() {
	local ver
	if ! have_deb_src; then
		enable_deb_src
		apt_update
	fi
	if ! ver=$(lwip_version); then
		apt_update
		ver=$(lwip_version) ||
			die "apt has no source package lwip $LWIP_UPSTREAM-*" \
				"(apt-cache showsrc lwip shows what there is)"
	fi
	rm -rf "$dl"
	mkdir -p "$dl"
	# apt drops privileges to _apt for downloads: let it write here.
	if [ "$(id -u)" -eq 0 ] && id _apt >/dev/null 2>&1; then
		chown _apt "$dl"
	fi
	log "apt-get source --download-only lwip=$ver"
	(cd "$dl" && apt-get source -qq --download-only "lwip=$ver" >&2)
	[ -f "$dl/$LWIP_ORIG" ] || die "apt did not produce $dl/$LWIP_ORIG"
	tarball=$dl/$LWIP_ORIG
}

mkdir -p "$build"
exec 9>"$build/.lwip-fetch.lock"
flock 9 2>/dev/null || true
# Another run may have finished while we waited for the lock.
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$LWIP_SHA256" ]; then
	exit 0
fi

if [ -n "${LWIP_TARBALL:-}" ]; then
	[ -f "$LWIP_TARBALL" ] || die "LWIP_TARBALL=$LWIP_TARBALL: no such file"
	tarball=$LWIP_TARBALL
elif [ -f "$dl/$LWIP_ORIG" ] && [ "$(sha256_of "$dl/$LWIP_ORIG")" = "$LWIP_SHA256" ]; then
	tarball=$dl/$LWIP_ORIG
else
	fetch_with_apt
fi

got=$(sha256_of "$tarball")
if [ "$got" != "$LWIP_SHA256" ]; then
	echo "fetch-lwip: CHECKSUM MISMATCH for $tarball" >&2
	echo "fetch-lwip:   expected sha256 $LWIP_SHA256" >&2
	echo "fetch-lwip:   got      sha256 $got" >&2
	echo "fetch-lwip: refusing to build with it." >&2
	exit 1
fi

# Unpack next to the target and rename, so an interrupted run never leaves a
# half tree that looks complete.
tmp=$(mktemp -d "$build/lwip-src.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xf "$tarball" -C "$tmp" --strip-components=1 --no-same-owner
[ -f "$tmp/src/include/lwip/opt.h" ] || die "$tarball does not hold lwIP's src/"
echo "$LWIP_SHA256" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
log "lwIP $LWIP_UPSTREAM unpacked in $out"

# Note on debian/patches (2.1.3+dfsg1-2), checked when this version was pinned:
#   patch9350      sockets API: LWIP_SOCKET_EXTERNAL_HEADERS (opt.h, inet.h,
#                  sockets.h); only matters with LWIP_SOCKET=1.
#   patch9807      tcpip_callback_wait() in src/api/tcpip.c (the tcpip thread,
#                  NO_SYS=0 only; src/api is not compiled).
#   CVE-2020-8597  a bounds check in src/netif/ppp/eap.c (PPP is not compiled;
#                  lwipopts.h keeps PPP_SUPPORT 0).
#   port           the GNU/Hurd port under port/ plus a sockets.c tweak.
#   max_sockets    LWIP_SOCKET_OPEN_COUNT for sockets.c (+ an init.c #error
#                  that only fires with LWIP_SOCKET=1).
#   cmake          CMakeLists/pkg-config for Debian's shared library.
# None of them touches src/core, src/netif/ethernet.c or src/apps/lwiperf, so
# they are not applied. Re-check this list when LWIP_UPSTREAM changes.
