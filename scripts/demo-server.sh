# Sourced by the interop scripts: runs the built `vulnshare serve --demo` on a port the system
# picks, with a fresh data directory under $work, and publishes a TLP:CLEAR advisory through the
# API as a client would. Set `work` (a temporary directory) first; call stop_demo_server on exit.
BIN=${VULNSHARE_BIN:-target/debug/vulnshare}

# Starts the server; sets server (its pid), base (its URL), api, ADMIN and REPORTER (tokens).
start_demo_server() {
  "$BIN" serve --demo --listen 127.0.0.1:0 --data-dir "$work/data" 2> "$work/serve.log" &
  server=$!
  for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
  base=$(sed -n 's|^vulnshare listening on \(http://[^ ]*\)$|\1|p' "$work/serve.log")
  [ -n "$base" ] || { echo "FAIL: the server did not start:"; cat "$work/serve.log"; return 1; }
  api="$base/api/v1"
  ADMIN=$(demo_token "Platform Operator")
  REPORTER=$(demo_token "Example Operator")
}

stop_demo_server() { [ -z "${server:-}" ] || kill "$server" 2>/dev/null || true; }

demo_token() { grep "demo account: $1" "$work/serve.log" | awk '{print $NF}'; }
post() { curl -sf -X POST "$api$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Files, fixes and publishes a Django SQL injection (fixed in 3.2.14) at TLP:CLEAR; prints the
# advisory's id.
publish_django_advisory() {
  local report case_id to
  report=$(post "$REPORTER" "/reports?submit=true" '{
    "kind": "third_party_observation", "title": "SQL injection in Django QuerySet.annotate",
    "technical_characteristics": "Column aliases passed to annotate() are not quoted.",
    "affected_packages": [{"ecosystem": "PyPI", "name": "django",
       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.14"}]}]}],
    "aware_at": "2022-07-01T00:00:00Z", "tlp": "CLEAR", "aliases": ["CVE-2022-34265"]}' | json '["report"]["id"]')
  for to in triaged coordinating fix_available; do
    post "$ADMIN" "/reports/$report/transitions" "{\"to\": \"$to\"}" > /dev/null
  done
  case_id=$(post "$ADMIN" /cases "{\"title\": \"django\", \"report_ids\": [\"$report\"]}" | json '["case"]["id"]')
  post "$ADMIN" "/cases/$case_id/advisory" '{"tlp": "CLEAR", "summary": "SQL injection in Django", "remediation": "Upgrade to 3.2.14"}' | json '["advisory"]["id"]'
}
