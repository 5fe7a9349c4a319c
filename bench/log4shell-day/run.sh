#!/usr/bin/env bash
# The "Log4Shell day" scenario (issue 9): MEMBERS providers each upload an SBOM of COMPONENTS
# components, then one advisory is matched against all of them, on PostgreSQL (the local server,
# database `test`, a fresh schema) or SQLite. Prints the driver's JSON (rates, latency
# percentiles, the publish request's time, other requests' latency meanwhile).
#
# Usage: bench/log4shell-day/run.sh [postgres|sqlite]   env MEMBERS (1000) COMPONENTS (2000)
#        THREADS (8) EXPOSED_PERCENT (10); VULNSHARE_BIN=path uses that binary as it is.
#        SERVER_LOG=path keeps the server's log there (RUST_LOG, default warn, sets its level).
#        SCHEMA=name (PostgreSQL) uses that schema, creating it if missing, and keeps it; with
#        MEMBERS_FILE and SETUP_ONLY (see driver.py) a set-up and the day can run apart:
#          SCHEMA=l4s MEMBERS_FILE=/tmp/m.json SETUP_ONLY=1 bench/log4shell-day/run.sh postgres
#          SCHEMA=l4s MEMBERS_FILE=/tmp/m.json bench/log4shell-day/run.sh postgres
set -euo pipefail
cd "$(dirname "$0")/../.."
ENGINE=${1:-postgres}
PORT=${PORT:-18490}
if [ -n "${VULNSHARE_BIN:-}" ]; then
  BIN=$(realpath "$VULNSHARE_BIN")
else
  cargo build --release -q -p vulnshare
  BIN=$PWD/target/release/vulnshare
fi
# The scenario measures the platform, not its per-address limits.
export VULNSHARE_RATE_LIMIT_ADDRESS_PER_MINUTE=0 VULNSHARE_RATE_LIMIT_CREDENTIAL_PER_MINUTE=0
WORK=$(mktemp -d /tmp/vulnshare-l4s-day.XXXXXX)
case "$ENGINE" in
  sqlite) DB=(--data-dir "$WORK/data") ;;
  postgres)
    if [ -n "${SCHEMA:-}" ]; then KEEP=1; else KEEP=0; SCHEMA=l4sday_$(date +%s)_$$; fi
    psql -q -h 127.0.0.1 -U postgres -d test -c "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS $SCHEMA"
    DB=(--database-url "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$SCHEMA") ;;
  *) echo "engine must be postgres or sqlite" >&2; exit 2 ;;
esac
RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --demo --listen 127.0.0.1:$PORT "${DB[@]}" 2>"$WORK/server.log" &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true
  if [ "$ENGINE" = postgres ] && [ "$KEEP" = 0 ]; then psql -q -h 127.0.0.1 -U postgres -d test -c "SET client_min_messages = warning; DROP SCHEMA $SCHEMA CASCADE"; fi
  if [ -n "${SERVER_LOG:-}" ]; then cp "$WORK/server.log" "$SERVER_LOG"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
for _ in $(seq 1 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
token() { grep -m1 "demo account: $1" "$WORK/server.log" | awk '{print $NF}'; }
echo "engine $ENGINE, $(nproc) cores, load before: $(uptime | sed 's/.*load average: //')" >&2
python3 bench/log4shell-day/driver.py "http://127.0.0.1:$PORT" "$(token 'Platform Operator')" "$(token 'Example Operator')"
echo "load after: $(uptime | sed 's/.*load average: //')" >&2
if [ "$ENGINE" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -d test -Atc "SELECT 'stored: ' || pg_size_pretty(sum(pg_total_relation_size(c.oid))) || ' in schema, '
      || pg_size_pretty(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname = 'sbom_components')) || ' of it sbom_components'
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$SCHEMA' AND c.relkind = 'r'" >&2
  psql -h 127.0.0.1 -U postgres -d test -Atc "SELECT c.relname || ': ' || pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '$SCHEMA' AND c.relname LIKE 'sbom_components%'
    ORDER BY c.relname" >&2
fi
