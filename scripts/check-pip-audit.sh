#!/usr/bin/env bash
# Interop check: the real pip-audit client, pointed at vulnshare's osv.dev-compatible API,
# finds exactly the advisories the platform publishes. Needs a built `vulnshare` binary
# (VULNSHARE_BIN, default target/debug/vulnshare) and pip-audit on PATH (or PIP_AUDIT).
set -euo pipefail
cd "$(dirname "$0")/.."
PIP_AUDIT=${PIP_AUDIT:-pip-audit}
work=$(mktemp -d)
source scripts/demo-server.sh
trap 'stop_demo_server; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
start_demo_server
advisory=$(publish_django_advisory)

printf 'django==3.2.5\nrequests==2.31.0\n' > "$work/vulnerable.txt"
printf 'django==3.2.14\n' > "$work/fixed.txt"
set +e
"$PIP_AUDIT" --no-deps --disable-pip -r "$work/vulnerable.txt" -s osv --osv-url "$base/osv/v1/query" -f json -o "$work/vulnerable.json" 2> "$work/pip-audit.err"
vulnerable_rc=$?
"$PIP_AUDIT" --no-deps --disable-pip -r "$work/fixed.txt" -s osv --osv-url "$base/osv/v1/query" -f json -o "$work/fixed.json" 2>> "$work/pip-audit.err"
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
