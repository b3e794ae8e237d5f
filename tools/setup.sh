#!/usr/bin/env bash
# Makes sure the Debian packages a step needs are installed.
#   tools/setup.sh build|run|iso|disk|fleet|test|bench|fuzz
# As root, missing packages are installed with apt-get; otherwise the exact
# apt-get line is printed and the script fails, so nothing half-works.
set -eu
profile=${1:-build}

build_pkgs="gcc make binutils gnu-efi git"
run_pkgs="qemu-system-x86 ovmf python3 iproute2"
iso_pkgs="grub-efi-amd64-bin grub-common mtools xorriso"
lwip_pkgs="dpkg-dev ca-certificates"
# eBPF programs for the XDP-style hook: clang -target bpf, libbpf headers.
bpf_pkgs="clang llvm libbpf-dev"
http_pkgs="node-llhttp"
# libtsan2: the ThreadSanitizer runtime of the lock-free unit tests.
test_pkgs="curl netcat-openbsd iputils-ping iperf socat clang clang-format libtsan2"
# /metrics: promtool and a real Prometheus scraping the appliance; /status:
# headless Chromium loading the page.
deploy_test_pkgs="prometheus chromium"
# make disk: a GPT disk image with a FAT32 EFI system partition, no mount.
disk_pkgs="gdisk dosfstools mtools qemu-utils"
# make fleet: libvirt (its own libvirtd, started in the fleet's namespace),
# HAProxy in front, Prometheus scraping, wrk, socat and curl for the test.
fleet_pkgs="libvirt-daemon-system libvirt-clients libvirt-daemon-driver-qemu haproxy wrk socat curl prometheus"
bench_pkgs="wrk apache2-utils gnuplot-nox busybox-static nginx-light linux-image-cloud-amd64 cpio"

case "$profile" in
build) want="$build_pkgs $lwip_pkgs $http_pkgs $bpf_pkgs" ;;
run) want="$build_pkgs $lwip_pkgs $http_pkgs $bpf_pkgs $run_pkgs" ;;
iso) want="$build_pkgs $iso_pkgs" ;;
disk) want="$build_pkgs $disk_pkgs" ;;
fleet) want="$build_pkgs $run_pkgs $disk_pkgs $fleet_pkgs" ;;
test) want="$build_pkgs $lwip_pkgs $http_pkgs $bpf_pkgs $run_pkgs $iso_pkgs $test_pkgs $deploy_test_pkgs $disk_pkgs" ;;
bench) want="$build_pkgs $lwip_pkgs $http_pkgs $bpf_pkgs $run_pkgs $test_pkgs $bench_pkgs" ;;
fuzz) want="clang" ;;
*) echo "setup.sh: unknown profile '$profile'" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in *" installed") ;; *) missing="$missing $p" ;; esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "Skiff needs these Debian packages:$missing" >&2
	echo "Install them as root with:" >&2
	echo "  apt-get update && apt-get install -y$missing" >&2
	exit 1
fi
echo "setup: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have stale or empty package lists: refresh once.
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends $missing >&2
