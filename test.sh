#!/usr/bin/env bash
# Runs every test of the solution on CPU (no GPU needed), installing native packages first when root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
scripts/ensure-native.sh --for-tests
log="$(mktemp)"
set +e
# Normal verbosity prints each skipped test's reason; the passed tests' own lines are left out of the screen.
dotnet test CbpGpu.sln -c Release --nologo --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" | grep -Ev '^ +Passed [A-Za-z]'
rc=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies, for readers and CI alike.
count() { { grep -Eo "$1: +[0-9]+" "$log" || true; } | awk '{s += $2} END {print s + 0}'; }
passed=$(count Passed)
failed=$(count Failed)
skipped=$(count Skipped)
# Each skipped test and its reason: xunit prints "<name> [SKIP]" and the reason on the next line.
skips=$(awk '/\[SKIP\]$/ { sub(/^\[xUnit[^]]*\] +/, ""); sub(/ \[SKIP\]$/, ""); name = $0; next }
             name != "" { sub(/^\[xUnit[^]]*\] +/, ""); print "skipped: " name ": " $0; name = "" }' "$log")
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ -n "$skips" ]; then echo "$skips"; fi
exit "$rc"
