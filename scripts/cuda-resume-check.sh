#!/bin/bash
# On a GPU machine, from the unpacked bundle's folder (scripts/bundle.sh; README.md#gpu): is a --device cuda run
# deterministic, and does a stop and resume continue it exactly? Two straight 16-update PPO+CBP runs and one stopped by
# SIGTERM after 9 s and resumed; compares updates.csv and episodes.csv without their timing columns.
# (timeout --foreground: without it GNU timeout signals the process group too, and a second SIGTERM kills the run.)
set -u
cd "${1:-.}" || exit 1
w="$(mktemp -d)"
trap 'rm -rf "$w"' EXIT
f="--method cbp --preset constant --seed 2 --envs 64 --device cuda --steps 32768 --eval-every 0"
./runner train $f --out "$w/a" 2>&1 | tail -1
./runner train $f --out "$w/b" 2>&1 | tail -1
timeout --foreground -s TERM 9 ./runner train $f --out "$w/c" 2>&1 | tail -2; echo "stopped rc=${PIPESTATUS[0]}"
./runner train $f --out "$w/c" --resume 2>&1 | tail -1
cat "$w/c/sessions.csv"
W="$w" python3 - <<'PY'
import csv, os
def rows(d, name):
    with open(os.path.join(os.environ["W"], d, name)) as fh:
        r = list(csv.DictReader(fh))
    return [{k: v for k, v in x.items() if not k.endswith("_seconds") and "wall" not in k and "time" not in k} for x in r]
for name in ["updates.csv", "episodes.csv"]:
    a, b, c = rows("a", name), rows("b", name), rows("c", name)
    def cmp(x, y):
        n = sum(1 for p, q in zip(x, y) if p != q)
        first = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), None)
        return f"{len(x)} vs {len(y)} rows, {n} differ, first at {first}"
    print(name, "straight a vs b:", cmp(a, b), "| a vs stopped+resumed c:", cmp(a, c))
PY
