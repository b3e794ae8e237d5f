#!/usr/bin/env bash
# Runs every host unit-test binary given, then prints the combined
# "N passed, N failed" line and exits non-zero if anything failed.
set -u
total_pass=0 total_fail=0
for bin in "$@"; do
	echo "== $(basename "$bin")"
	out=$("$bin" 2>&1); rc=$?
	echo "$out" | grep -v '^ok ' || true
	line=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n1)
	if [ -z "$line" ]; then
		echo "$bin: crashed or printed no summary (exit $rc)"
		total_fail=$((total_fail + 1))
		continue
	fi
	p=${line%% passed*}; f=${line#*, }; f=${f%% failed*}
	total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
	[ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && total_fail=$((total_fail + 1))
done
echo "unit: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
