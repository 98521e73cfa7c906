#!/usr/bin/env bash
# What a GPU session runs, in order, from the unpacked bundle (scripts/bundle.sh puts this script next to
# ./runner and ./bench): ./gpu-check.sh [--benchmarks] [REPORT]
# Everything goes to REPORT (default: $OUT/gpu-check.txt when OUT is set, else ./gpu-check.txt), with a summary
# at the end. Every step has its own timeout, so a hang costs minutes, not the session; without --benchmarks it
# takes about 5 minutes on a 16-core GPU machine. Steps that need a GPU say so and go on where there is none,
# so the CPU parts run anywhere. README.md#gpu says what each result means.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
benchmarks=0
if [ "${1:-}" = "--benchmarks" ]; then benchmarks=1; shift; fi
report="${1:-${OUT:-.}/gpu-check.txt}"
runs="$(mktemp -d)"
trap 'rm -rf "$runs"' EXIT
exec > >(tee "$report") 2>&1

summary=()
note() { summary+=("$1"); }
section() { printf '\n== %s (%s UTC)\n' "$1" "$(date -u +%H:%M:%S)"; }
# run SECONDS COMMAND...: shows the command, runs it under a timeout and shows its exit code (124: timed out).
run() {
  local limit=$1 rc
  shift
  echo "\$ $*"
  timeout --kill-after=10 "$limit" "$@" </dev/null
  rc=$?
  echo "(exit $rc)"
  return "$rc"
}

section "machine"
date -u
uname -srm
echo "cores: $(nproc)"
free -g | head -2

section "1 nvidia-smi"
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "nvidia-smi not found: no NVIDIA driver here"
  note "nvidia-smi: not found"
elif run 60 nvidia-smi; then
  note "nvidia-smi: ok"
else
  note "nvidia-smi: FAILED"
fi

section "2 PyTorch (python3)"
torch_lib="${CBPGPU_LIBTORCH:-}"
probe='import os, torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available()); print(os.path.join(os.path.dirname(torch.__file__), "lib"))'
if out="$(timeout 180 python3 -c "$probe" 2>&1)"; then
  echo "$out"
  [ -n "$torch_lib" ] || torch_lib="$(printf '%s\n' "$out" | tail -1)"
  note "python3: $(printf '%s\n' "$out" | head -1)"
else
  printf '%s\n' "$out" | tail -3
  note "python3: no torch"
fi
if [ -n "$torch_lib" ]; then
  # The same directory for every step below, and no second python3 probe in each.
  export CBPGPU_LIBTORCH="$torch_lib"
  echo "CBPGPU_LIBTORCH=$torch_lib"
  ls -la "$torch_lib"/libc10*.so "$torch_lib"/libtorch*.so 2>/dev/null || true
fi

section "3 libLibTorchSharp.so's libtorch symbols against $torch_lib"
glue="$here/app/libLibTorchSharp.so"
stdcxx="$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ {print $NF; exit}')"
if [ -z "$torch_lib" ] || [ ! -e "$glue" ]; then
  echo "skipped: no libtorch directory or no $glue"
  note "symbols: skipped"
else
  # C++ symbols (_Z...) the glue library needs (U, not weak w), against what libtorch and libstdc++ define.
  nm -D --undefined-only "$glue" | awk '$1 == "U" {print $2}' | sed 's/@.*//' | grep '^_Z' | sort -u >"$runs/need"
  for lib in "$torch_lib"/libc10.so "$torch_lib"/libc10_cuda.so "$torch_lib"/libtorch.so "$torch_lib"/libtorch_cpu.so \
             "$torch_lib"/libtorch_cuda.so "$stdcxx"; do
    [ -e "$lib" ] && nm -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//'
  done | sort -u >"$runs/have"
  comm -23 "$runs/need" "$runs/have" >"$runs/missing"
  echo "needed: $(wc -l <"$runs/need"), defined there: $(comm -12 "$runs/need" "$runs/have" | wc -l), missing: $(wc -l <"$runs/missing")"
  if command -v c++filt >/dev/null 2>&1; then c++filt <"$runs/missing"; else cat "$runs/missing"; fi | head -100
  note "symbols: $(wc -l <"$runs/missing") of $(wc -l <"$runs/need") missing"
fi

section "4 a TorchSharp op on CUDA (bench torch-cuda-check)"
if run 300 "$here/bench" torch-cuda-check; then note "torch-cuda-check: PASS"; else note "torch-cuda-check: exit $?"; fi

section "5 ILGPU kernels on CUDA vs the CPU loops (bench cuda-check)"
if run 420 "$here/bench" cuda-check; then note "cuda-check: PASS"; else note "cuda-check: exit $?"; fi

section "6 training: time split per device and env count"
steps="${GPU_CHECK_STEPS:-40960}" # 20 updates of 2,048 env steps (fewer to try the script on a small machine)
# train DEVICE ENVS IMPL: a short PPO+CBP run; prints the progress and the summed time split of updates.csv.
train() {
  local dir="$runs/$1-$2-$3"
  if run 600 "$here/runner" train --method cbp --preset constant --seed 1 --steps "$steps" --envs "$2" \
       --device "$1" --optimizer-impl "$3" --checkpoint-every 0 --checkpoint-minutes 0 --out "$dir" | tail -4; then
    awk -F, -v what="$1 --envs $2 --optimizer-impl $3" '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      { env += $col["env_seconds"]; act += $col["act_seconds"]; upd += $col["update_seconds"]; n++ }
      END { t = env + act + upd; if (t > 0) printf "time split %s: %d updates, env %.1f s, acting %.1f s, update %.1f s (%.3f s per update); %.0f env steps/s\n", what, n, env, act, upd, upd / n, n * 2048 / t }
    ' "$dir/updates.csv" | tee -a "$runs/splits"
  else
    echo "time split $1 --envs $2 --optimizer-impl $3: the run failed" | tee -a "$runs/splits"
  fi
}
for envs in 64 256; do
  train cpu "$envs" fused
  train cpu "$envs" naive
  train cuda "$envs" naive
done
while read -r line; do note "$line"; done <"$runs/splits"

section "7 first updates' losses, CPU vs CUDA (--envs 64, naive, seed 1)"
for device in cpu cuda; do
  file="$runs/$device-64-naive/updates.csv"
  [ -e "$file" ] && awk -F, -v d="$device" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    NR <= 4 { printf "%s update %d: policy_loss %s value_loss %s\n", d, NR - 1, $col["policy_loss"], $col["value_loss"] }' "$file"
done | tee "$runs/losses"
# Rollouts sample actions from a generator on the run's device, and CUDA's random streams are not the CPU's, so
# the losses agree to float tolerance only if sampling is made device-independent (README.md#gpu).
note "losses: $(grep -c update "$runs/losses" 2>/dev/null || echo 0) lines compared (above)"

if [ "$benchmarks" = 1 ]; then
  section "8 BenchmarkDotNet: fused vs naive, CPU and CUDA"
  if run 900 "$here/bench" --filter '*'; then note "benchmarks: done"; else note "benchmarks: exit $?"; fi
fi

section "summary"
printf '%s\n' "${summary[@]}"
echo "report: $report"
