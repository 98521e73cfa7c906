#!/usr/bin/env bash
# Proves `Runner sweep --emit slurm` against a real Slurm (docs/sweeps.md#slurm): starts a single-node cluster on
# this machine (munged, slurmctld, slurmd from Debian's packages, installed when missing and run as root), submits
# an emitted job array of std and cbp x a 2-value maturity grid (3 runs: std has nothing to vary) x 1 seed x 20k
# steps, waits for it, checks that every run finished with its files and settings, and stops the daemons (also on
# failure). Nothing outside a temporary directory is configured; the
# daemons use their own ports and sockets. Exit 0: passed; 1: failed (the reason and the daemon logs are printed).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
fail() { echo "slurm-roundtrip: FAILED: $*" >&2; exit 1; }
say() { echo "slurm-roundtrip: $*"; }

packages=(slurmctld slurmd munge slurm-client)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "Slurm is not installed and this is not root; run: sudo apt-get install -y ${packages[*]}"
  say "installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -q >/dev/null || fail "apt-get update failed"
  timeout 300 apt-get install -y -q --no-install-recommends "${packages[@]}" >/dev/null || fail "apt-get install ${packages[*]} failed"
fi
[ "$(id -u)" = 0 ] || fail "the daemons need root (slurmd starts jobs as their user); run as root"

"$here/scripts/ensure-native.sh"
dotnet build "$here/src/Runner/CbpGpu.Runner.csproj" -c Release --nologo -v q >/dev/null || fail "building the Runner failed"
runner=("$(command -v dotnet)" "$here/src/Runner/bin/Release/net10.0/Runner.dll")

work="$(mktemp -d /tmp/cbpgpu-slurm.XXXXXX)"
chmod 755 "$work"
host="$(hostname -s)"
conf="$work/slurm.conf"
pids=()
cleanup() {
  rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done; kill -9 "$pid" 2>/dev/null || true; done
  if [ "$rc" != 0 ]; then
    for log in munged.log slurmctld.log slurmd.log; do
      [ -f "$work/$log" ] && { echo "--- $log (last 20 lines)" >&2; tail -n 20 "$work/$log" >&2; }
    done
    for log in "$work"/sweep/logs/*; do [ -f "$log" ] && { echo "--- $log (last 20 lines)" >&2; tail -n 20 "$log" >&2; }; done
    echo "slurm-roundtrip: files kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# munge: its own socket and key copy, run as the munge user like the packaged service.
mkdir -p "$work/munge"
cp /etc/munge/munge.key "$work/munge/munge.key" 2>/dev/null || { dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" 2>/dev/null; }
chown -R munge:munge "$work/munge"
chmod 755 "$work/munge"; chmod 400 "$work/munge/munge.key"
runuser -u munge -- munged --socket="$work/munge/munge.sock" --key-file="$work/munge/munge.key" \
  --pid-file="$work/munge/munged.pid" --log-file="$work/munge/munged.log" --seed-file="$work/munge/munged.seed" \
  || fail "munged did not start (see $work/munge/munged.log)"
for _ in $(seq 50); do [ -f "$work/munge/munged.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

node_line="$(slurmd -C | head -n 1)"   # NodeName=<host> CPUs=... as slurmd sees this machine
cat >"$conf" <<EOF
ClusterName=cbpgpu
SlurmctldHost=$host
SlurmUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$work/munge/munge.sock
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
$node_line State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
mkdir -p "$work/state" "$work/spool"
export SLURM_CONF="$conf"
slurmctld -f "$conf" || fail "slurmctld did not start"
for _ in $(seq 50); do [ -f "$work/slurmctld.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$conf" || fail "slurmd did not start"
for _ in $(seq 50); do [ -f "$work/slurmd.pid" ] && break; sleep 0.1; done
pids+=("$(cat "$work/slurmd.pid")")

say "waiting for node $host to be idle"
for i in $(seq 60); do
  state="$(sinfo -h -N -o '%T' 2>/dev/null | head -n 1 || true)"
  [ "$state" = idle ] && break
  [ "$i" = 60 ] && fail "node $host is '${state:-unknown}' after 60 s, not idle"
  sleep 1
done

cd "$work"
"${runner[@]}" sweep --methods std,cbp --seeds 0 --preset constant --envs 16 --steps 20k --grid "maturity=500,5000" \
  --out "$work/sweep" --emit slurm "$work/sweep.sh" --slurm-cpus 1 --slurm-time 00:10:00 \
  || fail "Runner sweep --emit slurm failed"
job="$(sbatch --parsable "$work/sweep.sh")" || fail "sbatch refused the emitted script"
say "submitted job array $job"
for i in $(seq 180); do
  [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
  [ "$i" = 180 ] && fail "job $job still queued or running after 180 s: $(squeue -h -j "$job")"
  sleep 1
done

steps=20480   # 20k rounded up to whole updates of 2,048
for run in std cbp/maturity=500 cbp/maturity=5000; do
  dir="$work/sweep/$run/seed-0"
  for f in config.json episodes.csv updates.csv sessions.csv checkpoint.bin; do
    [ -s "$dir/$f" ] || fail "$dir/$f is missing or empty"
  done
  last="$(tail -n 1 "$dir/sessions.csv")"
  [[ "$last" == *",finished,$steps,$steps,"* ]] || fail "$dir did not finish at step $steps; sessions.csv ends: $last"
  rows=$(( $(wc -l <"$dir/updates.csv") - 1 ))
  [ "$rows" = 10 ] || fail "$dir/updates.csv has $rows rows, expected 10"
  case "$run" in cbp/maturity=*)
    grep -q "\"MaturityThreshold\": ${run#cbp/maturity=}," "$dir/config.json" || fail "$dir/config.json does not have maturity ${run#cbp/maturity=}";;
  esac
done
ls "$work/sweep/logs/"slurm-"$job"_*.log >/dev/null 2>&1 || fail "no Slurm output in $work/sweep/logs"
say "passed: job array $job ran std and cbp at maturity 500 and 5000 (seed 0, $steps steps) to the end on a real Slurm"
