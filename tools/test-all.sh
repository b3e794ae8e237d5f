#!/usr/bin/env bash
# `make test`: every test stage in turn (the include-structure and format
# checks, host unit tests, QEMU integration tests, the benchmark harness on a
# tiny scale, a short fuzz run), each ending with its own "N passed, N
# failed"; then the total on the last line.
# Exits non-zero if any stage failed.
set -u
make=${MAKE:-make}
total_pass=0 total_fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

stage() {
	local name=$1; shift
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local line
	line=$(grep -E '([a-z]+: )?[0-9]+ passed, [0-9]+ failed' "$log" | tail -n1)
	local p=0 f=0
	if [ -n "$line" ]; then
		p=$(echo "$line" | sed -E 's/^(.*[^0-9])?([0-9]+) passed.*/\2/')
		f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
	fi
	# A stage that failed without counting a failure counts as one.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	if [ -z "$line" ] && [ "$rc" -eq 0 ]; then p=1; fi
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
}

stage layers $make --no-print-directory check-layers
stage format $make --no-print-directory check-format
stage unit $make --no-print-directory unit
# The verifier: every known attack program refused, and 20,000 generated
# programs whose accepted ones run with every access checked.
stage verifier-regressions $make --no-print-directory verifier-regressions
stage verifier-fuzz $make --no-print-directory verifier-fuzz-check
stage qemu $make --no-print-directory qemu-test
stage bench-smoke $make --no-print-directory bench-smoke
# The libvirt fleet behind HAProxy, where libvirt can run (root, network
# namespaces, no other libvirtd); otherwise the reason is printed.
if ! tools/setup.sh fleet > /dev/null 2>&1; then
	echo "=== fleet: skipped: its Debian packages are missing and cannot be installed here (tools/setup.sh fleet says how)"
elif ! reason=$(${PYTHON:-python3} tools/fleet.py why-not); then
	echo "=== fleet: skipped: $reason"
else
	stage fleet $make --no-print-directory fleet-test
fi
if command -v clang >/dev/null; then
	stage fuzz-smoke $make --no-print-directory fuzz-smoke
else
	echo "=== fuzz-smoke: clang not installed, skipped"
fi
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
