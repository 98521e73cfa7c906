#!/usr/bin/env python3
"""Compares `./runner replay --engine bullet` with PyBullet's own AntBulletEnv-v0, step by step (docs/bullet-ant.md#pybullet).

Needs a PyBullet you provide (`import pybullet` must work, e.g. PYTHONPATH=/path/to/dir-with-pybullet.so), numpy, and
bullet3's examples/pybullet/gym directory (pybullet_envs, pybullet_utils, pybullet_data) of the same version, passed as
--gym. Nothing of PyBullet ships with this project. Gym itself is not needed: pybullet_envs imports only gym.Env,
gym.spaces.Box and gym.utils.seeding.np_random, and this script puts a stand-in for those names in sys.modules (API
glue; no physics). pybullet_envs/__init__.py (gym's env registry) is not run.

What it does, per action file:
- writes N rows of float32 actions drawn uniformly in [-1, 1] (numpy default_rng(seed)), each value printed so it
  parses back to the same float32 (the format `replay --actions` reads);
- runs `RUNNER replay --engine bullet --friction F --actions FILE` and reads reward,terminated,obs_0..obs_27 per step;
- builds pybullet_envs' AntBulletEnv (gym_locomotion_envs.py), resets it, sets the floor's lateral friction to F
  (what --friction sets on Bullet: the ant keeps its own 1.5), puts every hinge at 0 with zero speed (replay starts
  there: no reset noise) and recomputes the env's potential, then steps it with the same float32 actions until done;
- compares observation, reward and done step by step.

Usage: compare-pybullet.py --gym DIR [--runner ./runner] [--friction 0.8] [--steps 1000] [--seed 23] [--files 1]
Exit code 0 when every compared step agrees to --rtol, 1 otherwise, 2 on usage errors.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import types


def error(msg, code=2):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(code)


def install_gym_stand_in(np):
    """The few gym names pybullet_envs imports: Env, spaces.Box, utils.seeding.np_random, __version__."""
    gym = types.ModuleType("gym")
    gym.__version__ = "0.21.0"

    class Env:
        pass

    class Box:
        def __init__(self, low, high, dtype=np.float32):
            self.low, self.high, self.dtype = np.asarray(low, dtype), np.asarray(high, dtype), dtype
            self.shape = self.low.shape

    def np_random(seed=None):
        return np.random.RandomState(seed), seed

    spaces = types.ModuleType("gym.spaces")
    spaces.Box = Box
    utils = types.ModuleType("gym.utils")
    seeding = types.ModuleType("gym.utils.seeding")
    seeding.np_random = np_random
    utils.seeding = seeding
    gym.Env, gym.spaces, gym.utils = Env, spaces, utils
    sys.modules.update({"gym": gym, "gym.spaces": spaces, "gym.utils": utils, "gym.utils.seeding": seeding})


def load_ant_env_class(gym_dir):
    envs_dir = os.path.join(gym_dir, "pybullet_envs")
    if not os.path.isfile(os.path.join(envs_dir, "gym_locomotion_envs.py")):
        error(f"--gym '{gym_dir}' holds no pybullet_envs/gym_locomotion_envs.py; pass bullet3's examples/pybullet/gym")
    sys.path.insert(0, gym_dir)
    # A package object for pybullet_envs without running its __init__.py (gym's registry).
    pkg = types.ModuleType("pybullet_envs")
    pkg.__path__ = [envs_dir]
    sys.modules["pybullet_envs"] = pkg
    import pybullet_envs.gym_locomotion_envs as envs
    return envs.AntBulletEnv


def write_actions(path, rows):
    with open(path, "w") as f:
        for row in rows:
            f.write(",".join(repr(float(v)) for v in row) + "\n")


def run_replay(runner, friction, actions_path, np):
    cmd = [runner, "replay", "--engine", "bullet", "--friction", repr(friction), "--actions", actions_path]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        error(f"{' '.join(cmd)} failed: {out.stderr.strip()}", 1)
    steps = []
    for line in out.stdout.splitlines():
        vals = line.split(",")
        # The reward is a double; the observation float32, printed as the shortest text that parses back to that float32.
        steps.append((float(vals[0]), vals[1] == "1", [float(np.float32(v)) for v in vals[2:]]))
    return steps


def run_pybullet(AntEnv, np, friction, rows, seed, report):
    env = AntEnv()
    env.seed(seed)
    env.reset()
    p = env._p
    for body in env.stadium_scene.ground_plane_mjcf:
        p.changeDynamics(body, -1, lateralFriction=friction)
    if report:
        floor = [p.getDynamicsInfo(b, -1)[1] for b in env.stadium_scene.ground_plane_mjcf]
        ant = env.robot.objects[0]
        frictions = [p.getDynamicsInfo(ant, j)[1] for j in range(-1, p.getNumJoints(ant))]
        names = ["torso"] + [p.getJointInfo(ant, j)[12].decode() for j in range(p.getNumJoints(ant))]
        print(f"  PyBullet floor lateral friction {floor}; ant links' lateral friction: "
              + ", ".join(f"{n} {f:g}" for n, f in zip(names, frictions)))
    for j in env.robot.ordered_joints:
        j.reset_current_position(0.0, 0.0)
    env.robot.calc_state()
    env.potential = env.robot.calc_potential()
    steps = []
    for a in rows:
        state, reward, done, _ = env.step(np.asarray(a, dtype=np.float32))
        steps.append((float(reward), bool(done), [float(v) for v in state]))
        if done:
            break
    env.close()
    return steps


def rel_err(a, b):
    scale = max(abs(a), abs(b))
    return 0.0 if a == b else abs(a - b) / scale


def compare(ours, theirs, rtol, atol):
    """Per step: max relative error over reward and obs (values within atol of each other count as agreeing)."""
    first_bad, max_rel, agree, bitwise = None, 0.0, 0, 0
    n = min(len(ours), len(theirs))
    for k in range(n):
        (r1, d1, o1), (r2, d2, o2) = ours[k], theirs[k]
        pairs = [(r1, r2)] + list(zip(o1, o2))
        worst = max(rel_err(a, b) if abs(a - b) > atol else 0.0 for a, b in pairs)
        max_rel = max(max_rel, worst)
        same = d1 == d2 and worst <= rtol
        if all(a == b for a, b in pairs) and d1 == d2:
            bitwise += 1
        if same:
            agree += 1
        elif first_bad is None:
            idx = max(range(len(pairs)), key=lambda i: rel_err(*pairs[i]) if abs(pairs[i][0] - pairs[i][1]) > atol else 0)
            what = "reward" if idx == 0 else f"obs[{idx - 1}]"
            first_bad = (k + 1, what, pairs[idx], worst, d1, d2)
    return n, agree, bitwise, max_rel, first_bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gym", required=True, help="bullet3's examples/pybullet/gym (pybullet_envs, pybullet_utils, pybullet_data)")
    ap.add_argument("--runner", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "runner"))
    ap.add_argument("--friction", type=float, default=0.8, help="the floor's lateral friction (replay's --friction)")
    ap.add_argument("--steps", type=int, default=1000, help="actions per file")
    ap.add_argument("--seed", type=int, default=23, help="seed of the first action file; file i uses seed + i")
    ap.add_argument("--files", type=int, default=1, help="action files (episodes) to compare")
    ap.add_argument("--rtol", type=float, default=1e-5)
    ap.add_argument("--atol", type=float, default=0.0, help="differences at most this large count as agreeing")
    ap.add_argument("--keep", help="directory to keep the action files and both trajectories in")
    args = ap.parse_args()
    if args.steps < 1 or args.files < 1:
        error("--steps and --files must be at least 1")
    try:
        import numpy as np
    except ImportError:
        error("numpy is not importable; install it (e.g. apt-get install python3-numpy)")
    try:
        import pybullet  # noqa: F401 (pybullet_envs imports it; checked here for a clear error)
    except ImportError:
        error("pybullet is not importable; build or install PyBullet and put it on PYTHONPATH (docs/bullet-ant.md#pybullet)")
    install_gym_stand_in(np)
    AntEnv = load_ant_env_class(os.path.abspath(args.gym))

    workdir = args.keep or tempfile.mkdtemp(prefix="compare-pybullet-")
    os.makedirs(workdir, exist_ok=True)
    total = total_agree = total_bitwise = 0
    same_lengths = True
    overall_max = 0.0
    for i in range(args.files):
        seed = args.seed + i
        rows = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(args.steps, 8)).astype(np.float32)
        path = os.path.join(workdir, f"actions-seed{seed}.csv")
        write_actions(path, rows)
        ours = run_replay(args.runner, args.friction, path, np)
        theirs = run_pybullet(AntEnv, np, args.friction, rows, seed, report=(i == 0))
        if args.keep:
            for name, steps in (("replay", ours), ("pybullet", theirs)):
                with open(os.path.join(workdir, f"{name}-f{args.friction:g}-seed{seed}.csv"), "w") as f:
                    for r, d, o in steps:
                        f.write(",".join([repr(r), "1" if d else "0"] + [repr(v) for v in o]) + "\n")
        n, agree, bitwise, max_rel, first_bad = compare(ours, theirs, args.rtol, args.atol)
        multi = sum(1 for _, _, o in theirs if sum(v > 0.5 for v in o[24:28]) >= 2)
        end = f"replay {len(ours)} steps{' (terminated)' if ours and ours[-1][1] else ''}, " \
              f"PyBullet {len(theirs)}{' (done)' if theirs and theirs[-1][1] else ''}"
        print(f"friction {args.friction:g}, actions seed {seed}: {end}; {multi} PyBullet steps with 2+ foot flags; "
              f"{agree}/{n} steps agree to {args.rtol:g} relative, {bitwise} bit for bit; max relative error {max_rel:.3g}")
        if first_bad:
            k, what, (a, b), worst, d1, d2 = first_bad
            print(f"  first departure: step {k}, {what}: replay {a!r} vs PyBullet {b!r} (relative {worst:.3g}); "
                  f"done {d1} vs {d2}")
        if len(ours) != len(theirs):
            print(f"  the episodes end at different steps: {len(ours)} vs {len(theirs)}")
            same_lengths = False
        total += n
        total_agree += agree
        total_bitwise += bitwise
        overall_max = max(overall_max, max_rel)
    print(f"total: {total_agree}/{total} steps agree to {args.rtol:g} relative, {total_bitwise} bit for bit, "
          f"max relative error {overall_max:.3g}")
    return 0 if total_agree == total and same_lengths else 1


if __name__ == "__main__":
    sys.exit(main())
