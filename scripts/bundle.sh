#!/usr/bin/env bash
# Writes DIR/cbpgpu-linux-x64.tar.xz: the Runner and the benchmarks as a self-contained Linux x64 app (no .NET
# SDK or runtime needed where it runs), built with -p:TorchBackend=external, so it carries TorchSharp's glue
# library but no libtorch: at run time it loads the libtorch of the machine's PyTorch (or --libtorch DIR /
# CBPGPU_LIBTORCH), see README.md#gpu. MuJoCo 2.2.2 and the libraries it links to come along, since the target
# may have no MuJoCo package. Usage: scripts/bundle.sh [--lean] DIR
# --lean leaves out what gpu-check.sh never loads (plotting's and text shaping's native libraries, the debugger's
# and disassembler's, the event tracing BenchmarkDotNet's diagnosers use, the standalone GCs), about 30 MiB instead
# of 36: what fits beside this repository in a device machine's 64 MiB (README.md#gpu). It keeps Roslyn's two
# assemblies: BenchmarkDotNet's config validators load them (step 8).
set -euo pipefail
lean=0
if [ "${1:-}" = "--lean" ]; then lean=1; shift; fi
if [ $# -ne 1 ]; then
  echo "usage: scripts/bundle.sh [--lean] DIR   (writes DIR/cbpgpu-linux-x64.tar.xz)" >&2
  exit 2
fi
here="$(cd "$(dirname "$0")/.." && pwd)"
mkdir -p "$1"
out="$(cd "$1" && pwd)/cbpgpu-linux-x64.tar.xz"
limit=$((64 * 1024 * 1024))
mujoco="${CBPGPU_MUJOCO_LIB:-/usr/lib/x86_64-linux-gnu/libmujoco.so.2.2.2}"
if [ ! -e "$mujoco" ]; then
  echo "error: $mujoco not found; install it (sudo apt-get install libmujoco2.2.2) or set CBPGPU_MUJOCO_LIB to libmujoco.so.2.2.2" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# A copy of the working tree (tracked and untracked, not ignored) keeps this build's obj/ apart from the
# default (TorchSharp-cpu) build's: restoring with another TorchBackend would overwrite its assets file.
(cd "$here" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$work"
app="$work/bundle/cbpgpu/app"
for project in src/Runner/CbpGpu.Runner.csproj bench/CbpGpu.Bench.csproj; do
  if ! dotnet publish "$work/$project" -c Release -r linux-x64 --self-contained --nologo -v q \
      -p:TorchBackend=external -p:DebugType=none -o "$app" >"$work/publish.log" 2>&1; then
    cat "$work/publish.log" >&2
    echo "error: publishing $project failed (output above)" >&2
    exit 1
  fi
done

# No libtorch library may travel: the target's PyTorch provides them (and two copies cannot share a process).
if find "$app" -name 'libtorch*.so*' -o -name 'libc10*.so*' | grep -q .; then
  echo "error: the bundle holds libtorch libraries: $(find "$app" -name 'libtorch*.so*' -o -name 'libc10*.so*' | tr '\n' ' ')" >&2
  exit 1
fi
[ -e "$app/libLibTorchSharp.so" ] || { echo "error: libLibTorchSharp.so is missing from the publish output" >&2; exit 1; }

if [ "$lean" = 1 ]; then
  (cd "$app" && rm -rf libSkiaSharp.so libHarfBuzzSharp.so libcapstone.so amd64 libmscordaccore.so libmscordbi.so createdump \
    libclrgc.so libclrgcexp.so libcoreclrtraceptprovider.so Microsoft.Diagnostics.Tracing.TraceEvent.dll Iced.dll)
fi

# MuJoCo and what it links to beyond glibc and libstdc++ (Debian 12: libccd, liblodepng, libqhull_r, libtinyxml2).
mkdir -p "$app/mujoco"
cp -L "$mujoco" "$app/mujoco/libmujoco.so.2.2.2"
ldd "$mujoco" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' \
  | grep -Ev '/(libc|libm|libstdc\+\+|libgcc_s|ld-linux[^/]*|libpthread|libdl|librt)\.so' \
  | while read -r dep; do cp -L "$dep" "$app/mujoco/"; done

for tool in runner:Runner bench:CbpGpu.Bench; do
  cat >"$work/bundle/cbpgpu/${tool%%:*}" <<WRAPPER
#!/bin/sh
# The bundled ${tool#*:} with its MuJoCo; libtorch comes from --libtorch DIR, CBPGPU_LIBTORCH or python3's PyTorch.
here=\$(cd "\$(dirname "\$0")" && pwd)
export CBPGPU_MUJOCO_LIB="\${CBPGPU_MUJOCO_LIB:-\$here/app/mujoco/libmujoco.so.2.2.2}"
export LD_LIBRARY_PATH="\$here/app/mujoco\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
exec "\$here/app/${tool#*:}" "\$@"
WRAPPER
  chmod +x "$work/bundle/cbpgpu/${tool%%:*}"
done
cp "$here/scripts/gpu-check.sh" "$work/bundle/cbpgpu/gpu-check.sh"
cp "$here/scripts/cuda-resume-check.sh" "$work/bundle/cbpgpu/cuda-resume-check.sh"
cp "$here/scripts/gpu-batch-sizes.sh" "$work/bundle/cbpgpu/gpu-batch-sizes.sh"

XZ_OPT='-9 -T0' tar -cJf "$out" -C "$work/bundle" cbpgpu
size=$(stat -c %s "$out")
unpacked=$(du -sb "$work/bundle/cbpgpu" | cut -f1)
echo "bundle: $out, $((size / 1024 / 1024)) MiB ($size bytes; $((unpacked / 1024 / 1024)) MiB unpacked)"
if [ "$size" -ge "$limit" ]; then
  echo "error: the bundle is $size bytes, over the 64 MiB limit" >&2
  exit 1
fi
