#!/usr/bin/env bash
# Interop check: schemathesis reads GET /api/v1/openapi.json of a running demo server and sends
# generated requests (valid and invalid) to every documented operation with an administrator's
# token, for SCHEMATHESIS_SECONDS (default 90). It fails on any 5xx answer and on any answer the
# document does not describe: an undocumented status code, content type or header, or a body
# that does not match the response schema. Needs a built `vulnshare` binary (VULNSHARE_BIN,
# default target/debug/vulnshare) and schemathesis on PATH (or SCHEMATHESIS).
set -euo pipefail
cd "$(dirname "$0")/.."
ST=${SCHEMATHESIS:-schemathesis}
seconds=${SCHEMATHESIS_SECONDS:-90}
work=$(mktemp -d)
source scripts/demo-server.sh
trap 'stop_demo_server; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# The point is to explore the API, not to measure the rate limits (tests/limits.rs does).
export VULNSHARE_RATE_LIMIT_ADDRESS_PER_MINUTE=0 VULNSHARE_RATE_LIMIT_CREDENTIAL_PER_MINUTE=0
start_demo_server
set +e
"$ST" run "$api/openapi.json" \
  --header "Authorization: Bearer $ADMIN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing --max-time "$seconds" --workers 2 --seed 20211209 \
  --request-timeout 20 --suppress-health-check all --no-color \
  > "$work/schemathesis.out" 2>&1
rc=$?
set -e
if [ "$rc" = 0 ]; then
  grep -E '^(Test Phase|API Operations|Test cases|Seed|=+ .* in [0-9.]+s)' "$work/schemathesis.out" | tail -8 || true
  echo "schemathesis: 1 passed, 0 failed"
else
  tail -120 "$work/schemathesis.out"
  if grep -q 'Internal error\|panicked' "$work/serve.log"; then grep -m5 'Internal error\|panicked' "$work/serve.log"; fi
  echo "schemathesis: 0 passed, 1 failed"
fi
exit "$rc"
