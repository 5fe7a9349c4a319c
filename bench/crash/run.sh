#!/usr/bin/env bash
# Crash test: kill -9 the server ROUNDS times under submission load, then check that every
# receipt a client holds has its report (same content hash and receipt time, and the receipt
# still verifies), that `vulnshare audit verify` passes, and that every report has its
# obligations. Writes a summary to stdout; numbers go to bench/crash/RESULTS.md by hand.
#
# Usage: bench/crash/run.sh [sqlite|postgres] [ROUNDS]      (env THREADS=8 MAX_UP_MS=3000)
# PostgreSQL: the local server at 127.0.0.1:5432, database `test`, a fresh schema per run.
set -euo pipefail
cd "$(dirname "$0")/../.."
ENGINE=${1:-sqlite}
ROUNDS=${2:-20}
THREADS=${THREADS:-8}
MAX_UP_MS=${MAX_UP_MS:-3000}
PORT=${PORT:-18480}
# VULNSHARE_BIN=path uses that binary as it is (e.g. a debug build, to check the script itself).
if [ -n "${VULNSHARE_BIN:-}" ]; then
  BIN=$(realpath "$VULNSHARE_BIN")
else
  cargo build --release -q -p vulnshare
  BIN=$PWD/target/release/vulnshare
fi
# The test checks durability, not the per-credential limits: thousands of receipts are checked
# with one token at the end (three requests each), far past its 1,200 a minute.
export VULNSHARE_RATE_LIMIT_ADDRESS_PER_MINUTE=0 VULNSHARE_RATE_LIMIT_CREDENTIAL_PER_MINUTE=0
WORK=$(mktemp -d /tmp/vulnshare-crash.XXXXXX)
URL=http://127.0.0.1:$PORT
case "$ENGINE" in
  sqlite) DB=(--data-dir "$WORK/data") ;;
  postgres)
    SCHEMA=crash_$(date +%s)_$$
    psql -q -h 127.0.0.1 -U postgres -d test -c "CREATE SCHEMA $SCHEMA"
    DB=(--database-url "postgres://postgres@127.0.0.1:5432/test?options=-c%20search_path%3D$SCHEMA") ;;
  *) echo "engine must be sqlite or postgres" >&2; exit 2 ;;
esac
echo "engine $ENGINE, $ROUNDS kills, $THREADS client threads, work folder $WORK"
uptime

start_server() { # $@: extra flags; waits until it listens
  RUST_LOG=warn "$BIN" serve --listen 127.0.0.1:$PORT "${DB[@]}" "$@" 2>>"$WORK/server.log" &
  SERVER=$!
  for _ in $(seq 1 300); do
    curl -sf "$URL/healthz" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "the server did not come up" >&2; exit 2
}

# Whatever happens (a failed check exits at once), no server or client is left running.
trap 'kill -9 "${SERVER:-}" "${CLIENT:-}" 2>/dev/null || true' EXIT
start_server --demo
TOKEN=$(grep -m1 'demo account: Alibaba Cloud' "$WORK/server.log" | awk '{print $NF}')
REGULATOR=$(grep -m1 'demo account: MIIT' "$WORK/server.log" | awk '{print $NF}')
python3 bench/crash/client.py "$URL" "$TOKEN" "$WORK/receipts.jsonl" "$WORK/stop" "$THREADS" \
  >"$WORK/client.json" 2>"$WORK/client.log" &
CLIENT=$!

for round in $(seq 1 "$ROUNDS"); do
  sleep "$(python3 -c "import random; print(random.uniform(0.3, $MAX_UP_MS / 1000))")"
  kill -9 "$SERVER"
  wait "$SERVER" 2>/dev/null || true
  printf 'kill %d: %d receipts so far\n' "$round" "$(wc -l <"$WORK/receipts.jsonl")"
  start_server
done
sleep 1
touch "$WORK/stop"
wait "$CLIENT"
echo "client: $(cat "$WORK/client.json")"

# Every receipt the client holds: its report, same hash and time, and a valid signature.
python3 - "$URL" "$TOKEN" "$WORK/receipts.jsonl" <<'EOF'
import json, sys, urllib.request
url, token, path = sys.argv[1:4]
receipts = [json.loads(line) for line in open(path, encoding="utf-8")]
missing, mismatched, invalid = [], [], []
def call(method, route, body=None):
    req = urllib.request.Request(url + route, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, None
for r in receipts:
    status, got = call("GET", f"/api/v1/reports/{r['report_id']}")
    if status != 200:
        missing.append(r["report_id"]); continue
    # Signatures are deterministic: the receipt the server re-issues now must be the one held.
    status, again = call("GET", f"/api/v1/reports/{r['report_id']}/receipt")
    if got["report"].get("received_at") != r["received_at"] or again != r:
        mismatched.append(r["report_id"])
    status, v = call("POST", "/api/v1/receipts/verify", r)
    if status != 200 or not v.get("valid"):
        invalid.append(r["report_id"])
print(f"receipts held: {len(receipts)}; without report: {len(missing)}; "
      f"hash/time mismatch: {len(mismatched)}; signature invalid: {len(invalid)}")
if missing or mismatched or invalid:
    print("FAIL", missing[:5], mismatched[:5], invalid[:5]); sys.exit(1)
EOF
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true

"$BIN" audit verify "${DB[@]}"

# Obligations: every report the load submitted has as many as the others (same reporter, same
# content, same regimes).
QUERY="SELECT r.id, COUNT(o.id) FROM reports r LEFT JOIN obligations o ON o.report_id = r.id WHERE r.title LIKE 'Crash test report%' GROUP BY r.id"
case "$ENGINE" in
  sqlite) sqlite3 -separator ' ' "$WORK/data/vulnshare.db" "$QUERY" >"$WORK/obligations.txt" ;;
  postgres) psql -qtA -F ' ' -h 127.0.0.1 -U postgres -d test \
      -c "SET search_path TO $SCHEMA" -c "$QUERY" >"$WORK/obligations.txt" ;;
esac
python3 - "$WORK/obligations.txt" "$WORK/receipts.jsonl" <<'EOF'
import collections, json, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
per_report = {r: int(n) for r, n in rows}
held = {json.loads(l)["report_id"] for l in open(sys.argv[2])}
shapes = collections.Counter(per_report.values())
print(f"submitted reports in the database: {len(per_report)} "
      f"(of which {len(per_report) - len(held & per_report.keys())} committed without the client "
      f"receiving its receipt); obligations per report: {dict(shapes)}")
if len(shapes) != 1 or 0 in shapes:
    print("FAIL: some report lost obligations"); sys.exit(1)
EOF
if [ "$ENGINE" = postgres ]; then
  psql -q -h 127.0.0.1 -U postgres -d test -c "SET client_min_messages = warning; DROP SCHEMA $SCHEMA CASCADE"
fi
echo "crash test passed"
