#!/bin/bash
# Ray round times across network namespaces on this one machine (issue 22, item 3; optional
# part): N raylets started by `ray start`, each in its own network namespace (etn-n0..),
# joined by veth pairs to a bridge (etn-br, 10.66.0.0/24), each link rate-limited both ways
# by tc tbf (RATE, e.g. 1gbit, 200mbit; "none" for no limit). The driver (`embedtrain train
# --ray 10.66.0.1:6660`) runs in the head's namespace; token authentication is on (a fresh
# RAY_AUTH_TOKEN, RAY_AUTH_MODE=token) as `ray start` has it by default. Skip-gram on
# ../shared/data/text8-prefix.gz, --workers N --threads 1 --epochs 1, each SYNC_EVERY;
# prints one JSON line per run (medians of stats.distributed.per_round, and the records).
#
# Needs root, ip netns, veth, bridge and tc tbf. tc netem (delay) is not available on
# these machines ("Specified qdisc kind is unknown"), so only rates, no latency.
# Everything it starts lives in its namespaces; it stops them by killing the processes
# in those namespaces (never `ray stop`, which stops every Ray on the machine).
#
#   flock /tmp/embedtrain-bench.lock scripts/ray_netns.sh N RATE SYNC_EVERY...
#   scripts/ray_netns.sh down N        # remove the namespaces and bridge after a failure
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=${ETN_TMP:-/tmp/etn-netns}

down() {
  for i in $(seq 0 $(($1 - 1))); do
    for p in $(ip netns pids etn-n$i 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
    ip netns del etn-n$i 2>/dev/null || true
    ip link del etn-h$i 2>/dev/null || true
  done
  ip link del etn-br 2>/dev/null || true
}

up() {
  local n=$1 rate=$2
  ip link add etn-br type bridge && ip addr add 10.66.0.254/24 dev etn-br && ip link set etn-br up || return 1
  for i in $(seq 0 $((n - 1))); do
    ip netns add etn-n$i
    ip link add etn-h$i type veth peer name etn-p$i
    ip link set etn-p$i netns etn-n$i
    ip link set etn-h$i master etn-br
    ip link set etn-h$i up
    ip netns exec etn-n$i ip link set lo up
    ip netns exec etn-n$i ip addr add 10.66.0.$((i + 1))/24 dev etn-p$i
    ip netns exec etn-n$i ip link set etn-p$i up
    if [ "$rate" != none ]; then
      tc qdisc add dev etn-h$i root tbf rate "$rate" burst 256kb latency 100ms || return 1
      ip netns exec etn-n$i tc qdisc add dev etn-p$i root tbf rate "$rate" burst 256kb latency 100ms || return 1
    fi
  done
}

if [ "${1:-}" = down ]; then down "${2:-8}"; exit 0; fi
n=$1; rate=$2; shift 2
down 8
trap 'down $n' EXIT
up "$n" "$rate" || exit 1
export RAY_AUTH_MODE=token RAY_worker_niceness=0
RAY_AUTH_TOKEN=$(python -c "import secrets; print(secrets.token_hex(16))")
export RAY_AUTH_TOKEN
common="--num-cpus 1 --object-store-memory 536870912 --disable-usage-stats --min-worker-port 10600 --max-worker-port 10649"
rm -rf "$TMP"; mkdir -p "$TMP"
for i in $(seq 0 $((n - 1))); do
  mkdir -p "$TMP/$i"
  if [ "$i" = 0 ]; then
    RAY_TMPDIR=$TMP/0 ip netns exec etn-n0 ray start --head --include-dashboard false \
      --node-ip-address 10.66.0.1 --port 6660 $common > "$TMP/start0.log" 2>&1 || { tail -20 "$TMP/start0.log"; exit 1; }
  else
    RAY_TMPDIR=$TMP/$i ip netns exec etn-n$i ray start --address 10.66.0.1:6660 \
      --node-ip-address 10.66.0.$((i + 1)) $common > "$TMP/start$i.log" 2>&1 || { tail -20 "$TMP/start$i.log"; exit 1; }
  fi
done
cd "$ROOT"
for every in "$@"; do
  RAY_TMPDIR=$TMP/0 PYTHONPATH=$ROOT ip netns exec etn-n0 python -m embedtrain train "$ROOT/../shared/data/text8-prefix.gz" \
    --model skipgram --ray 10.66.0.1:6660 --workers "$n" --threads 1 --sync-every "$every" --epochs 1 \
    --no-sync-overlap --seed 1 -o "$TMP/out" -v 2> "$TMP/train-$every.log" || { tail -20 "$TMP/train-$every.log"; exit 1; }
  python - "$n" "$rate" "$every" "$TMP/out.etm" <<'PY'
import json, statistics, sys, zipfile
s = json.loads(zipfile.ZipFile(sys.argv[4]).read("meta.json"))["stats"]
d, p = s["distributed"], s["distributed"]["per_round"]
def med(k):
    return round(statistics.median(p[k]), 4)
print(json.dumps({"mode": "netns", "rate": sys.argv[2], "nodes": int(sys.argv[1]), "nodes_used": d["nodes"],
                  "workers": d["workers"], "sync_every": int(sys.argv[3]), "rounds": d["rounds"],
                  "median_round_seconds": med("wall_seconds"), "median_kernel_max_seconds": med("kernel_max_seconds"),
                  "median_kernel_mean_seconds": med("kernel_mean_seconds"), "median_sync_seconds": med("sync_seconds"),
                  "median_bytes_per_round": int(statistics.median(p["bytes"])), "train_seconds": s["train_seconds"],
                  "per_round": p}))
PY
done
