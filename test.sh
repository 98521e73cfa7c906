#!/usr/bin/env bash
# Runs every test of the solution on CPU (no GPU needed), installing native packages first when root.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
scripts/ensure-native.sh --for-tests
log="$(mktemp)"
set +e
dotnet test CbpGpu.sln -c Release --nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e
# One plain summary line over all test assemblies, for readers and CI alike.
count() { grep -Eo "$1: +[0-9]+" "$log" | awk '{s += $2} END {print s + 0}'; }
passed=$(count Passed)
failed=$(count Failed)
rm -f "$log"
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$rc"
