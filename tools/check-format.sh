#!/usr/bin/env bash
# `make check-format` (a stage of `make test`): every C source and header
# in the repository must be exactly what clang-format makes of it with the
# repository's .clang-format. `make format` rewrites them so.
# Ends with "format: 1 passed, 0 failed" (or "0 passed, 1 failed"): one
# test for the `make test` total.
set -u
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null || {
	echo "check-format: clang-format is not installed (Debian package clang-format)"
	echo "format: 0 passed, 1 failed"
	exit 1
}
pass=0 fail=0
while IFS= read -r f; do
	[ -f "$f" ] || continue
	if clang-format --style=file "$f" | cmp -s - "$f"; then
		pass=$((pass + 1))
	else
		echo "$f: differs from clang-format (make format fixes it)"
		fail=$((fail + 1))
	fi
done < <(git ls-files --cached --others --exclude-standard '*.c' '*.h')
echo "check-format: $((pass + fail)) files, $fail differ"
if [ "$fail" -eq 0 ]; then
	echo "format: 1 passed, 0 failed"
else
	echo "format: 0 passed, 1 failed"
	exit 1
fi
