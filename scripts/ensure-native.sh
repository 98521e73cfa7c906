#!/usr/bin/env bash
# Makes sure the native packages CbpGpu needs are present on Debian/Ubuntu.
# As root it installs what is missing; otherwise it prints the exact command and fails.
# Usage: scripts/ensure-native.sh [--for-tests|--for-render]
set -euo pipefail

need=()
[ -e /usr/lib/x86_64-linux-gnu/libmujoco.so.2.2.2 ] || [ -e /usr/lib/aarch64-linux-gnu/libmujoco.so.2.2.2 ] || need+=(libmujoco2.2.2)
# The build compiles the Bullet Ant shim (docs/bullet-ant.md#build) against Debian's double-precision Bullet.
pkg-config --exists bullet-float64 2>/dev/null || need+=(libbullet-dev)
command -v pkg-config >/dev/null 2>&1 || need+=(pkg-config)
command -v g++ >/dev/null 2>&1 || need+=(g++)
if [ "${1:-}" = "--for-tests" ] || [ "${1:-}" = "--for-render" ]; then
  # Runner render (docs/render.md): EGL with Mesa's software renderer for MuJoCo's OpenGL, ffmpeg for MP4.
  [ -e /usr/lib/x86_64-linux-gnu/libEGL.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libEGL.so.1 ] || need+=(libegl1)
  ls /usr/lib/*-linux-gnu/libEGL_mesa.so.0 >/dev/null 2>&1 || need+=(libegl-mesa0)
  ls /usr/lib/*-linux-gnu/dri/swrast_dri.so >/dev/null 2>&1 || need+=(libgl1-mesa-dri)
  command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
fi
if [ "${1:-}" = "--for-tests" ]; then
  # The physics tests compile a C reference Ant and an offsetof() probe against the MuJoCo headers.
  [ -e /usr/include/mujoco/mujoco.h ] || need+=(libmujoco-dev)
  command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK ('dotnet') is not on PATH; install it (https://learn.microsoft.com/dotnet/core/install/linux-debian) and retry" >&2
  exit 1
fi
[ ${#need[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q "${need[@]}" >/dev/null
else
  echo "error: missing native packages; run: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
