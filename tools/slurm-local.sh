#!/usr/bin/env bash
# Starts (or stops) a one-node SLURM on localhost for the sweep tests: munged, slurmctld and
# slurmd from Debian's slurm-wlm and munge, with their state, logs and slurm.conf under DIR
# (default /tmp/spt-slurm). Prints `export SLURM_CONF=…` for the shell that submits.
#   tools/slurm-local.sh start [DIR]   — idempotent; waits until the node is idle
#   tools/slurm-local.sh stop [DIR]
# Needs root (slurmd starts jobs as their users); no cgroups (proctrack/linuxproc, task/none).
set -euo pipefail
action=${1:-start}; dir=${2:-/tmp/spt-slurm}
conf=$dir/slurm.conf
export SLURM_CONF=$conf
stop() {  # the daemons started with this slurm.conf (their environment names it), no others
  local pid pids=()
  for pid in $(pgrep -x slurmctld; pgrep -x slurmd; pgrep -x slurmscriptd); do
    { tr '\0' '\n' < "/proc/$pid/environ"; } 2>/dev/null | grep -qx "SLURM_CONF=$conf" && kill "$pid" 2>/dev/null && pids+=("$pid") || true
  done
  # Returns once they have exited (or linger only as zombies): a start right after a stop must
  # not find a controller still shutting down and take it for a running one.
  local alive
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do [[ $(ps -o stat= -p "$pid" 2>/dev/null) == [DRS]* ]] && alive=1; done
    (( alive )) || break
    sleep 0.1
  done
  rm -f "$dir"/*.pid
}
if [[ $action == stop ]]; then stop; exit 0; fi
mkdir -p "$dir/state" "$dir/spool"
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))
cat > "$conf" <<CONF
ClusterName=spt
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobRequeue=1
KillWait=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
if ! pgrep -x munged >/dev/null; then
  mkdir -p /run/munge && chown munge:munge /run/munge
  runuser -u munge -- /usr/sbin/munged
fi
if ! scontrol ping 2>/dev/null | grep -q UP; then
  stop
  /usr/sbin/slurmctld -c -i
  /usr/sbin/slurmd -N localhost
fi
for _ in $(seq 1 60); do
  sinfo -h -o %t 2>/dev/null | grep -qx idle && { echo "export SLURM_CONF=$conf"; exit 0; }
  sleep 0.5
done
echo "slurm-local: the node did not become idle; see $dir/slurmctld.log and $dir/slurmd.log" >&2
exit 1
