#!/usr/bin/env bash
# slurm-local.sh — a single-node Slurm cluster on this machine, for the sweep
# integration test (pkg/sweep/slurm_integration_test.go) and for trying
# `bsam sweep --executor slurm` without a cluster.
#
# Usage (as root, on Debian/Ubuntu):
#   scripts/slurm-local.sh          install slurm-wlm + munge if missing, write
#                                   the config, start munged, slurmctld, slurmd
#                                   and wait until sinfo shows the node idle
#   scripts/slurm-local.sh stop     stop the daemons this script started
#   scripts/slurm-local.sh status   sinfo + squeue
#
# Environment:
#   SLURM_LOCAL_STATE  state, spool and log directory (default /var/spool/bsam-slurm)
#   SLURM_LOCAL_NO_APT=1  never run apt-get (fail if the packages are missing)
#   SLURM_LOCAL_TIMEOUT   seconds to wait for the node (default 60)
#
# The cluster: one node (hostname -s) with all CPUs (nproc) and 90 % of the
# memory (free), partition "debug" (default), SlurmUser/SlurmdUser root,
# proctrack/linuxproc, task/none, select/cons_tres with CR_CPU_Memory off
# (CR_CPU: memory is not a consumable, so --mem requests never block),
# ReturnToService=2, no accounting storage (sacct does not work; bsam sweep
# copes) and no cgroup plugins: containers rarely allow them. It overwrites
# /etc/slurm/slurm.conf and /etc/slurm/cgroup.conf.
set -euo pipefail

STATE=${SLURM_LOCAL_STATE:-/var/spool/bsam-slurm}
CONF_DIR=/etc/slurm
TIMEOUT=${SLURM_LOCAL_TIMEOUT:-60}

log() { echo "slurm-local: $*" >&2; }
die() { log "$*"; exit 1; }

stop_slurm() {
	for d in slurmd slurmctld; do
		if [ -f "$STATE/$d.pid" ] && kill -0 "$(cat "$STATE/$d.pid")" 2>/dev/null; then
			log "stopping $d ($(cat "$STATE/$d.pid"))"
			kill "$(cat "$STATE/$d.pid")" || true
		fi
	done
}

stop() {
	stop_slurm
	if [ -f "$STATE/munged.pid" ] && kill -0 "$(cat "$STATE/munged.pid")" 2>/dev/null; then
		log "stopping munged"
		kill "$(cat "$STATE/munged.pid")" || true
	fi
}

case "${1:-start}" in
stop) stop; exit 0 ;;
status) sinfo; squeue; exit 0 ;;
start) ;;
*) die "unknown command $1 (start, stop or status)" ;;
esac

[ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts daemons as root)"

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
	[ "${SLURM_LOCAL_NO_APT:-}" = 1 ] && die "slurm-wlm or munge missing and SLURM_LOCAL_NO_APT=1"
	command -v apt-get >/dev/null || die "slurm-wlm and munge are missing and there is no apt-get: install Slurm and MUNGE by hand"
	log "installing slurm-wlm and munge with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq slurm-wlm munge >/dev/null
fi

HOST=$(hostname -s)
CPUS=$(nproc --all)
MEM_MB=$(free -m | awk '/^Mem:/ {print int($2 * 0.9)}')
mkdir -p "$STATE/slurmctld" "$STATE/slurmd" "$CONF_DIR"

# 2. MUNGE: a key and a running munged.
if [ ! -s /etc/munge/munge.key ]; then
	log "creating the munge key"
	if command -v mungekey >/dev/null; then
		mungekey --create --keyfile=/etc/munge/munge.key --force
	else
		dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
	fi
fi
chown munge:munge /etc/munge/munge.key 2>/dev/null || true
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge 2>/dev/null || true
if ! munge -n >/dev/null 2>&1; then
	log "starting munged"
	if id munge >/dev/null 2>&1; then
		runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid || /usr/sbin/munged --force
	else
		/usr/sbin/munged --force
	fi
	for _ in $(seq 20); do munge -n >/dev/null 2>&1 && break; sleep 0.5; done
	munge -n | unmunge >/dev/null || die "munged does not answer (see /var/log/munge/munged.log)"
	[ -f /run/munge/munged.pid ] && cp /run/munge/munged.pid "$STATE/munged.pid" || true
fi

# 3. slurm.conf for this host.
cat >"$CONF_DIR/slurm.conf" <<EOF
# Written by bsam scripts/slurm-local.sh: a single-node cluster on $HOST.
ClusterName=bsamlocal
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$STATE/slurmctld
SlurmdSpoolDir=$STATE/slurmd
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
SlurmctldPort=6817
SlurmdPort=6818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
MaxArraySize=10001
MinJobAge=300
KillWait=10
InactiveLimit=0
SlurmctldTimeout=60
SlurmdTimeout=60
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
# No cgroup plugin is configured above; an empty cgroup.conf keeps slurmd
# from looking for cgroup mounts it may not have in a container.
cat >"$CONF_DIR/cgroup.conf" <<EOF
# Written by bsam scripts/slurm-local.sh: cgroup plugins are off.
CgroupAutomount=no
EOF

# 4. Daemons (restarted so that they read the new configuration).
stop_slurm
sleep 1
log "starting slurmctld and slurmd ($HOST: $CPUS CPUs, ${MEM_MB} MB; logs in $STATE)"
slurmctld -c -f "$CONF_DIR/slurm.conf" || die "slurmctld failed: $(tail -n 5 "$STATE/slurmctld.log" 2>/dev/null)"
slurmd -f "$CONF_DIR/slurm.conf" || die "slurmd failed: $(tail -n 5 "$STATE/slurmd.log" 2>/dev/null)"

# 5. Wait for the node.
deadline=$((SECONDS + TIMEOUT))
until sinfo -h -N -o '%T' 2>/dev/null | grep -qx 'idle'; do
	if [ $SECONDS -ge $deadline ]; then
		sinfo -N -l >&2 || true
		tail -n 20 "$STATE/slurmctld.log" "$STATE/slurmd.log" >&2 || true
		die "the node did not become idle within ${TIMEOUT}s"
	fi
	# A node that was down in an earlier state comes back with ReturnToService=2,
	# but resume it explicitly in case.
	scontrol update NodeName="$HOST" State=RESUME >/dev/null 2>&1 || true
	sleep 1
done
log "ready: $(sinfo -h -o '%P %a %D %T %C')"
