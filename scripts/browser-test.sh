#!/usr/bin/env bash
# End-to-end tests of the web UI in headless Chromium: starts the built server
# (target/debug/vulnshare) with the demo data and a test clock on a free loopback port, runs
# tests/browser (node:test + playwright-core driving Debian's /usr/bin/chromium) and saves
# screenshots of the main pages under target/browser-artifacts/.
# Without node or chromium it skips with a message, except under CI (CI set), where it fails.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1 || ! [ -x "$chromium" ]; then
  msg="browser tests: need node, npm and $chromium (apt-get install chromium chromium-driver)"
  if [ -n "${CI:-}" ]; then echo "FAILED: $msg" >&2; exit 1; fi
  echo "browser tests: SKIPPED ($msg)"
  exit 0
fi
if ! [ -d tests/browser/node_modules/playwright-core ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi
# Built as part of the workspace's test build (the same features as scripts/test.sh), so that
# build is reused rather than the server compiled again with other features.
cargo nextest run --cargo-quiet --workspace --no-run
artifacts="$root/target/browser-artifacts"
rm -rf "$artifacts" && mkdir -p "$artifacts"
data="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
target/debug/vulnshare serve --listen "127.0.0.1:$port" --data-dir "$data" --demo \
  --test-clock 2026-03-02T01:00:00Z --sweep-interval-secs 1 >"$artifacts/server.log" 2>&1 &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  if node -e "fetch('http://127.0.0.1:$port/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    break
  fi
  kill -0 "$server" 2>/dev/null || { cat "$artifacts/server.log" >&2; exit 1; }
  sleep 0.2
done
BASE_URL="http://127.0.0.1:$port" ARTIFACTS="$artifacts" CHROMIUM="$chromium" \
  node --test --test-concurrency=1 tests/browser/
echo "browser tests: screenshots in $artifacts"
