#!/usr/bin/env bash
# Load benchmark with wrk (Debian package `wrk`) on loopback, release build: report submission
# (POST /api/v1/reports?submit=true) and OSV queries (POST /osv/v1/query for log4j-core 2.14.1,
# with a token, which matches the demo's TLP:CLEAR advisory and the TLP:AMBER one published
# here, and anonymously, as osv.dev clients such as pip-audit ask, which matches the CLEAR one) on SQLite, on PostgreSQL with one node and with two nodes (one
# wrk per node, throughputs added, the worse node's latencies shown).
#
# Usage: bench/load/run.sh [DURATION_S] [CONNECTIONS] [CONFIGS]
#   CONFIGS: any of sqlite pg1 pg2 (default all three). Results: a Markdown table on stdout.
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${1:-10}
CONNECTIONS=${2:-32}
CONFIGS=${3:-sqlite pg1 pg2}
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 2; }
# VULNSHARE_BIN=path uses that binary as it is (e.g. a debug build, to check the script itself).
if [ -n "${VULNSHARE_BIN:-}" ]; then
  BIN=$(realpath "$VULNSHARE_BIN")
else
  cargo build --release -q -p vulnshare
  BIN=$PWD/target/release/vulnshare
fi
# The benchmark measures the platform, not its per-token and per-address limits (429s).
export VULNSHARE_RATE_LIMIT_ADDRESS_PER_MINUTE=0 VULNSHARE_RATE_LIMIT_CREDENTIAL_PER_MINUTE=0
WORK=$(mktemp -d /tmp/vulnshare-load.XXXXXX)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT

start() { # $1 port, rest: flags; waits until it listens
  local port=$1; shift
  RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:$port "$@" 2>>"$WORK/server-$port.log" &
  PIDS+=($!)
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "server on $port did not come up" >&2; exit 2
}

stop_all() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  PIDS=()
}

api() { # method url token [body]
  curl -sf -X "$1" "$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' ${4:+-d "$4"}
}

# Publishes the demo report as a TLP:AMBER advisory, so OSV queries have something to find.
publish() { # base url
  local base=$1 analyst report case
  analyst=$(grep -m1 'demo account: Platform Operator' "$WORK"/server-*.log | awk '{print $NF}')
  report=$(api GET "$base/api/v1/reports?state=submitted&limit=1" "$analyst" | python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')
  case=$(api POST "$base/api/v1/cases" "$analyst" "{\"title\": \"Log4Shell\", \"report_ids\": [\"$report\"]}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"]["id"])')
  api POST "$base/api/v1/cases/$case/advisory" "$analyst" '{"tlp": "AMBER", "summary": "Log4Shell"}' >/dev/null
}

# Runs one wrk per port at once; prints "rps p50_ms p99_ms non2xx".
load() { # script port...   (env AS: the token to send; empty for an anonymous caller)
  local script=$1; shift
  local per=$((CONNECTIONS / $#))
  for port in "$@"; do
    TOKEN=$AS wrk -t1 -c"$per" -d"${DURATION}s" --latency -s "bench/load/$script" \
      "http://127.0.0.1:$port" >"$WORK/wrk-$script-$port.txt" &
  done
  wait # (runs in a subshell: only this call's wrk processes)
  python3 - "$WORK" "$script" "$@" <<'EOF'
import re, sys
work, script, ports = sys.argv[1], sys.argv[2], sys.argv[3:]
def ms(v):
    n, unit = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
rps, p50, p99, bad, requests = 0.0, 0.0, 0.0, 0, 0
for port in ports:
    text = open(f"{work}/wrk-{script}-{port}.txt").read()
    rps += float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    p50 = max(p50, ms(re.search(r"\s50%\s+(\S+)", text).group(1)))
    p99 = max(p99, ms(re.search(r"\s99%\s+(\S+)", text).group(1)))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    bad += int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: .*", text)
    if m:
        print(f"  ({port}: {m.group(0)})", file=sys.stderr)
    requests += int(re.search(r"(\d+) requests in", text).group(1))
print(f"{rps:.0f} {p50:.1f} {p99:.1f} {bad} {requests}")
EOF
}

# CPU time (user + system, in ms) so far of the server processes given and of every PostgreSQL
# process, exited backends included: "server_ms database_ms". Per request, it is the cost of the work whatever else the
# machine runs, where throughput is also the wait for a core.
cpu_ms() {
  python3 - "$@" <<'EOF'
import os, sys
hz = os.sysconf("SC_CLK_TCK")
def ticks(pid):
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return 0, ""
    name = stat[stat.index("(") + 1:stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2:].split()
    # utime + stime, and cutime + cstime: the postmaster's count of its exited backends.
    return sum(int(f) for f in fields[11:15]), name
servers = sum(ticks(p)[0] for p in sys.argv[1:])
database = 0
for pid in filter(str.isdigit, os.listdir("/proc")):
    t, name = ticks(pid)
    if name == "postgres":
        database += t
print(servers * 1000 // hz, database * 1000 // hz)
EOF
}

# Runs `load` and prints its figures followed by server and database CPU ms per request.
measure() { # script port...
  local s0 d0 s1 d1 rps p50 p99 bad n
  read -r s0 d0 < <(cpu_ms "${PIDS[@]}")
  read -r rps p50 p99 bad n < <(load "$@")
  read -r s1 d1 < <(cpu_ms "${PIDS[@]}")
  python3 - "$rps" "$p50" "$p99" "$bad" "$n" "$s0" "$d0" "$s1" "$d1" "$STORE" <<'EOF'
import sys
rps, p50, p99, bad, n, s0, d0, s1, d1, store = sys.argv[1:]
n = max(int(n), 1)
db = f"{(int(d1) - int(d0)) / n:.2f}" if store != "sqlite" else "-"
print(rps, p50, p99, bad, f"{(int(s1) - int(s0)) / n:.2f}", db)
EOF
}

echo "| store | nodes | submissions/s | p50 ms | p99 ms | errors | CPU ms per submission (server + database) | OSV queries/s (token) | p50 ms | p99 ms | errors | CPU ms per query | OSV queries/s (anonymous) | p50 ms | p99 ms | errors | CPU ms per query |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
for config in $CONFIGS; do
  case $config in
    sqlite) start 18501 --demo --data-dir "$WORK/sqlite"; PORTS=(18501) ;;
    pg1|pg2)
      SCHEMA=load_$(date +%s)_$$
      psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $SCHEMA"
      DBURL="postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$SCHEMA"
      start 18502 --demo --database-url "$DBURL"; PORTS=(18502)
      if [ "$config" = pg2 ]; then start 18503 --database-url "$DBURL"; PORTS+=(18503); fi ;;
    *) echo "unknown config $config" >&2; exit 2 ;;
  esac
  TOKEN=$(grep -m1 'demo account: Alibaba Cloud' "$WORK/server-${PORTS[0]}.log" | awk '{print $NF}')
  publish "http://127.0.0.1:${PORTS[0]}"
  STORE=${config%[12]}
  read -r s_rps s_p50 s_p99 s_bad s_srv s_db < <(AS=$TOKEN measure submit.lua "${PORTS[@]}")
  read -r o_rps o_p50 o_p99 o_bad o_srv o_db < <(AS=$TOKEN measure osv.lua "${PORTS[@]}")
  read -r a_rps a_p50 a_p99 a_bad a_srv a_db < <(AS="" measure osv.lua "${PORTS[@]}")
  echo "| $STORE | ${#PORTS[@]} | $s_rps | $s_p50 | $s_p99 | $s_bad | $s_srv + $s_db | $o_rps | $o_p50 | $o_p99 | $o_bad | $o_srv + $o_db | $a_rps | $a_p50 | $a_p99 | $a_bad | $a_srv + $a_db |"
  stop_all
  if [ "$config" != sqlite ]; then
    psql -q -h 127.0.0.1 -U postgres -d test -c "SET client_min_messages = warning; DROP SCHEMA $SCHEMA CASCADE"
  fi
  rm -rf "$WORK/sqlite"; rm -f "$WORK"/server-*.log
done
echo
echo "($CONNECTIONS connections, ${DURATION} s each, $(nproc) cores; load: $(uptime | sed 's/.*load average: //'))"
