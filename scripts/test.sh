#!/usr/bin/env bash
# Runs every test of the workspace: unit, integration (SQLite always; PostgreSQL too when
# VULNSHARE_TEST_PG is set, e.g. VULNSHARE_TEST_PG=1 for the local server), doc tests, and the
# interop tests with third-party clients (scripts/interop.sh; `scripts/interop.sh --install` once)
# and the web UI's end-to-end tests in headless Chromium (scripts/browser-test.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v cargo-nextest >/dev/null 2>&1; then
  echo "cargo-nextest is not installed: cargo install cargo-nextest --locked" >&2
  exit 2
fi
cargo nextest run --workspace --no-fail-fast "$@"
cargo test --workspace --doc --quiet
bash scripts/interop.sh
bash scripts/browser-test.sh
