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
rps, p50, p99, bad = 0.0, 0.0, 0.0, 0
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
print(f"{rps:.0f} {p50:.1f} {p99:.1f} {bad}")
EOF
}

echo "| store | nodes | submissions/s | p50 ms | p99 ms | errors | OSV queries/s (token) | p50 ms | p99 ms | errors | OSV queries/s (anonymous) | p50 ms | p99 ms | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
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
  read -r s_rps s_p50 s_p99 s_bad < <(AS=$TOKEN load submit.lua "${PORTS[@]}")
  read -r o_rps o_p50 o_p99 o_bad < <(AS=$TOKEN load osv.lua "${PORTS[@]}")
  read -r a_rps a_p50 a_p99 a_bad < <(AS="" load osv.lua "${PORTS[@]}")
  echo "| ${config%[12]} | ${#PORTS[@]} | $s_rps | $s_p50 | $s_p99 | $s_bad | $o_rps | $o_p50 | $o_p99 | $o_bad | $a_rps | $a_p50 | $a_p99 | $a_bad |"
  stop_all
  if [ "$config" != sqlite ]; then
    psql -q -h 127.0.0.1 -U postgres -d test -c "SET client_min_messages = warning; DROP SCHEMA $SCHEMA CASCADE"
  fi
  rm -rf "$WORK/sqlite"; rm -f "$WORK"/server-*.log
done
echo
echo "($CONNECTIONS connections, ${DURATION} s each, $(nproc) cores; load: $(uptime | sed 's/.*load average: //'))"
