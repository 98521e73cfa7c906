#!/usr/bin/env bash
# What a GPU session runs, in order, from the unpacked bundle (scripts/bundle.sh puts this script next to
# ./runner and ./bench): ./gpu-check.sh [--benchmarks] [REPORT]
# Everything goes to REPORT (default: $OUT/gpu-check.txt when OUT is set, else ./gpu-check.txt), with a summary
# at the end. Every step has its own timeout, so a hang costs minutes, not the session; without --benchmarks (the
# whole BenchmarkDotNet suite instead of its aged-Adam rows) it should take under 10 minutes on a 16-core GPU machine
# (not yet timed there). Steps that need a GPU say so and go on where there is none, so the CPU parts run anywhere:
# GPU_CHECK_DEVICES=cpu GPU_CHECK_STEPS=4096 tries them on a small machine. README.md#gpu says what each result means.
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

section "5 the fused kernels on CUDA (CudaKernelBackend over device memory, primary context) vs the CPU loops (bench cuda-check)"
if run 420 "$here/bench" cuda-check; then note "cuda-check: PASS"; else note "cuda-check: exit $?"; fi

section "6 training: time split per path and env count (PPO+CBP, 20 updates each)"
steps="${GPU_CHECK_STEPS:-40960}" # 20 updates of 2,048 env steps (fewer to try the script on a small machine)
devices="${GPU_CHECK_DEVICES:-cpu cuda}" # GPU_CHECK_DEVICES=cpu tries the CPU parts where there is no GPU
# train DEVICE ENVS IMPL: a short PPO+CBP run; prints the progress and the summed time split of updates.csv.
train() {
  local dir="$runs/$1-$2-$3"
  if run 600 "$here/runner" train --method cbp --preset constant --seed 1 --steps "$steps" --envs "$2" \
       --device "$1" --optimizer-impl "$3" --checkpoint-every 0 --checkpoint-minutes 0 --out "$dir" | tail -4; then
    # Minibatches per update from the run's own config.json (Ppo.Epochs x Ppo.Minibatches).
    local per_update
    per_update="$(awk -F'[:,]' '/"Epochs"/ {e = $2 + 0} /"Minibatches"/ {m = $2 + 0} END {print e * m}' "$dir/config.json")"
    awk -F, -v what="$1 --envs $2 --optimizer-impl $3" -v mb="$per_update" '
      NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
      { env += $col["env_seconds"]; act += $col["act_seconds"]; upd += $col["update_seconds"]; n++ }
      END { t = env + act + upd; if (t > 0 && n > 0) printf "time split %s: %d updates, env %.1f s, acting %.1f s, update %.1f s (%.3f s per update, %.2f ms per minibatch of %d); %.0f env steps/s\n", what, n, env, act, upd, upd / n, 1000 * upd / (n * mb), mb, n * 2048 / t }
    ' "$dir/updates.csv" | tee -a "$runs/splits"
  else
    echo "time split $1 --envs $2 --optimizer-impl $3: the run failed" | tee -a "$runs/splits"
  fi
}
for envs in 64 256; do
  for device in $devices; do
    train "$device" "$envs" fused        # cpu: the CPU loops; cuda: CudaKernelBackend
    [ "$device" = cuda ] && train cuda "$envs" naive
  done
done
while read -r line; do note "$line"; done <"$runs/splits"

section "7 the 20-update PPO+CBP run side by side (--envs 64, seed 1): fused CUDA, naive CUDA, fused CPU loops"
# Per update: losses, the summed mean |w| of every weight matrix (abs_w_*) and the units CBP replaced (replaced_*).
# All three draw the same initial weights, action noise and minibatches (CPU generators on every device,
# docs/ppo.md#random-number-streams), so they differ only by float rounding: fused and naive CUDA by the optimizer's
# and CBP's (the "worst relative" line says by how much after 20 updates), CUDA and CPU also by libtorch's matrix
# products. Rounding differences grow with training, so only the first updates agree closely (README.md#gpu).
side() {
  awk -F, -v d="$1" 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
    { w = 0; r = 0; for (c in col) { if (c ~ /^abs_w_/) w += $col[c]; if (c ~ /^replaced_/) r += $col[c] }
      printf "%s %d %s %s %.9g %d\n", d, NR - 2, $col["policy_loss"], $col["value_loss"], w, r }' "$2"
}
for run_dir in cuda-64-fused cuda-64-naive cpu-64-fused; do
  [ -e "$runs/$run_dir/updates.csv" ] && side "$run_dir" "$runs/$run_dir/updates.csv"
done >"$runs/side"
if [ -s "$runs/side" ]; then
  awk '{ key = $2; row[key] = row[key] sprintf("  %s: pl %s vl %s sum|w| %s repl %s", $1, $3, $4, $5, $6) }
       END { for (u = 0; u in row; u++) printf "update %d%s\n", u, row[u] }' "$runs/side" | tee "$runs/losses"
  awk '$1 == "cuda-64-fused" { pl[$2] = $3; vl[$2] = $4; w[$2] = $5; r[$2] = $6 }
       $1 == "cuda-64-naive" && ($2 in pl) { n++
         d = ($3 - pl[$2]); if (d < 0) d = -d; s = ($3 < 0 ? -$3 : $3); if (s > 0 && d / s > wp) wp = d / s
         d = ($4 - vl[$2]); if (d < 0) d = -d; s = ($4 < 0 ? -$4 : $4); if (s > 0 && d / s > wv) wv = d / s
         d = ($5 - w[$2]); if (d < 0) d = -d; if ($5 > 0 && d / $5 > ww) ww = d / $5
         if ($6 != r[$2]) rd++ }
       END { if (n) printf "fused vs naive CUDA over %d updates: worst relative policy_loss %.2e, value_loss %.2e, sum|w| %.2e; updates with different replacement counts: %d\n", n, wp, wv, ww, rd + 0 }' \
    "$runs/side" | tee "$runs/agreement"
  note "side by side: $(grep -c update "$runs/losses") updates (above)"
  [ -s "$runs/agreement" ] && note "$(cat "$runs/agreement")"
else
  echo "no run to compare"
  note "side by side: no run"
fi

section "7b a CUDA run twice, and stopped and resumed (cuda-resume-check.sh)"
if [[ " $devices " == *" cuda "* ]] && [ -e "$here/cuda-resume-check.sh" ]; then
  run 300 bash "$here/cuda-resume-check.sh" "$here" | tee "$runs/resume"
  # Both files (updates.csv, episodes.csv): a equals b, and a equals the stopped and resumed c.
  if [ "$(grep -cE '0 differ, first at None \| a vs stopped\+resumed c: [0-9]+ vs [0-9]+ rows, 0 differ' "$runs/resume")" = 2 ]; then
    note "cuda determinism and resume: identical"
  else
    note "cuda determinism and resume: DIFFERENT or failed (above)"
  fi
else
  note "cuda determinism and resume: skipped"
fi

section "8 BenchmarkDotNet: the FusedCuda rows (with their CPU baselines)"
# The aged-Adam step and step + CBP suites at both widths, fused only (CUDA's rows appear where ILGPU finds a GPU;
# the naive baseline at 10x width alone takes seconds per call); --benchmarks runs the whole suite instead.
filters=('*AgedAdam*.FusedCuda' '*AgedAdam*.FusedCpu')
[ "$benchmarks" = 1 ] && filters=('*')
if run 540 "$here/bench" --filter "${filters[@]}"; then note "benchmarks (${filters[*]}): done"; else note "benchmarks (${filters[*]}): exit $?"; fi

section "summary"
printf '%s\n' "${summary[@]}"
echo "report: $report"
