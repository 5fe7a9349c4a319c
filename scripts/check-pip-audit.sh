#!/usr/bin/env bash
# Interop check: the real pip-audit client, pointed at vulnshare's osv.dev-compatible API,
# finds exactly the advisories the platform publishes. Needs a built `vulnshare` binary
# (VULNSHARE_BIN, default target/debug/vulnshare) and pip-audit on PATH (or PIP_AUDIT).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VULNSHARE_BIN:-target/debug/vulnshare}
PIP_AUDIT=${PIP_AUDIT:-pip-audit}
work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$BIN" serve --demo --listen "127.0.0.1:$port" --data-dir "$work/data" 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
api="http://127.0.0.1:$port/api/v1"
token() { grep "demo account: $1" "$work/serve.log" | awk '{print $NF}'; }
ADMIN=$(token "Platform Operator")
VENDOR=$(token "Example Operator")
post() { curl -sf -X POST "$api$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

report=$(post "$VENDOR" "/reports?submit=true" '{
  "kind": "third_party_observation", "title": "SQL injection in Django QuerySet.annotate",
  "technical_characteristics": "Column aliases passed to annotate() are not quoted.",
  "affected_packages": [{"ecosystem": "PyPI", "name": "django",
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.14"}]}]}],
  "aware_at": "2022-07-01T00:00:00Z", "tlp": "CLEAR", "aliases": ["CVE-2022-34265"]}' | json '["report"]["id"]')
for to in triaged coordinating fix_available; do
  post "$ADMIN" "/reports/$report/transitions" "{\"to\": \"$to\"}" > /dev/null
done
case_id=$(post "$ADMIN" /cases "{\"title\": \"django\", \"report_ids\": [\"$report\"]}" | json '["case"]["id"]')
advisory=$(post "$ADMIN" "/cases/$case_id/advisory" '{"tlp": "CLEAR", "summary": "SQL injection in Django", "remediation": "Upgrade to 3.2.14"}' | json '["advisory"]["id"]')

printf 'django==3.2.5\nrequests==2.31.0\n' > "$work/vulnerable.txt"
printf 'django==3.2.14\n' > "$work/fixed.txt"
set +e
"$PIP_AUDIT" --no-deps --disable-pip -r "$work/vulnerable.txt" -s osv --osv-url "http://127.0.0.1:$port/osv/v1/query" -f json -o "$work/vulnerable.json" 2> "$work/pip-audit.err"
vulnerable_rc=$?
"$PIP_AUDIT" --no-deps --disable-pip -r "$work/fixed.txt" -s osv --osv-url "http://127.0.0.1:$port/osv/v1/query" -f json -o "$work/fixed.json" 2>> "$work/pip-audit.err"
fixed_rc=$?
set -e
# pip-audit names a finding by its CVE alias when there is one; our id is among its aliases.
found=$(python3 -c "import json; d=json.load(open('$work/vulnerable.json')); print(sorted((v['id'], sorted(v['aliases']), v['fix_versions']) for dep in d['dependencies'] for v in dep.get('vulns', [])))")
fixed=$(python3 -c "import json; d=json.load(open('$work/fixed.json')); print(sum(len(dep.get('vulns', [])) for dep in d['dependencies']))")
passed=0; failed=0
expected="[('CVE-2022-34265', ['$advisory'], ['3.2.14'])]"
if [ "$vulnerable_rc" = 1 ] && [ "$found" = "$expected" ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: pip-audit on django==3.2.5 found $found (rc $vulnerable_rc), expected $expected"; cat "$work/pip-audit.err"; fi
if [ "$fixed_rc" = 0 ] && [ "$fixed" = 0 ]; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: pip-audit on django==3.2.14 found $fixed (rc $fixed_rc)"; fi
echo "pip-audit interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
