#!/usr/bin/env bash
# Compiles the Bullet Ant shim (native/bullet-ant/bullet_ant.cpp) against Debian's double-precision Bullet.
# Called by src/Physics's build; prints one error: line naming the apt packages when a tool or library is missing.
# Usage: scripts/build-bullet-shim.sh SOURCE OUTPUT
set -euo pipefail
src="$1" out="$2"
missing=""
command -v g++ >/dev/null 2>&1 || missing="g++"
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
if [ -z "$missing" ] && ! pkg-config --exists bullet-float64; then missing="libbullet-dev"; fi
if [ -n "$missing" ]; then
  echo "error: the Bullet Ant needs$( [ "$missing" = libbullet-dev ] && echo " Bullet's headers" || echo " $missing" ); run: sudo apt-get install libbullet-dev g++ pkg-config" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
# Bullet's headers are included as system headers: their own warnings are not this project's.
read -r -a cflags <<<"$(pkg-config --cflags bullet-float64 | sed 's/-I/-isystem /g')"
read -r -a libs <<<"$(pkg-config --libs bullet-float64)"
g++ -std=c++17 -O2 -fPIC -shared -Wall -Wextra -Werror "${cflags[@]}" "$src" -o "$out.tmp" "${libs[@]}"
mv "$out.tmp" "$out"
