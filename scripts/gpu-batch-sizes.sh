#!/bin/bash
# On a GPU machine, from the unpacked bundle's folder (scripts/bundle.sh; README.md#gpu): where does the GPU pay?
# PPO+CBP (--preset constant, seed 1), 3 updates at each batch / minibatch size (transitions), on CUDA and on the CPU
# with 16 and with 1 torch thread; prints each run's time split and its update time per update after the first
# (the first pays for warm-up). Each run is cut after 50 s (rc=124: the updates it finished are still summed).
# ~3 minutes on a 16-core H200 machine. Usage: bash gpu-batch-sizes.sh [BUNDLE_DIR]
set -u
cd "${1:-.}" || exit 1
w="$(mktemp -d)"
trap 'rm -rf "$w"' EXIT
nproc; date -u
for cfg in "16384 2048 64" "65536 8192 256" "2048 128 64"; do
  set -- $cfg   # batch, minibatch, envs
  for d in "cuda" "cpu --torch-threads 16" "cpu --torch-threads 1"; do
    dir="$w/r-$1-$(echo "$d" | tr -d ' -')"
    start=$(date +%s%N)
    # shellcheck disable=SC2086 # $d is a device and its flags
    timeout 50 ./runner train --method cbp --preset constant --seed 1 --steps $((3 * $1)) --envs "$3" --batch-size "$1" \
      --minibatch-size "$2" --device $d --checkpoint-every 0 --checkpoint-minutes 0 --out "$dir" >"$dir.log" 2>&1
    rc=$?
    wall=$(( ($(date +%s%N) - start) / 1000000 ))
    awk -F, -v what="batch $1, minibatch $2, $3 envs, --device $d (rc=$rc, ${wall} ms)" '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      { n++; env += $col["env_seconds"]; act += $col["act_seconds"]; u = $col["update_seconds"]; upd += u; if (n > 1) later += u }
      END { printf "%s: %d updates, env %.2f s, acting %.2f s, update %.2f s; update after the first %.3f s each\n", what, n, env, act, upd, (n > 1 ? later / (n - 1) : 0) }
    ' "$dir/updates.csv" 2>/dev/null || { echo "batch $1 --device $d: no updates.csv (rc=$rc)"; tail -3 "$dir.log"; }
  done
done
date -u
