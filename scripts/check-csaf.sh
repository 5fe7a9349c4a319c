#!/usr/bin/env bash
# Installs the pinned CSAF validator (npm @secvisogram/csaf-validator-lib) into a cache folder
# outside the repository and validates CSAF documents with it (schema + mandatory tests).
#
#   bash scripts/check-csaf.sh [--optional] [FILE...]
#
# Without files it validates the exported fixtures in crates/vulnshare-formats/tests/fixtures/csaf/
# plus whatever the Rust tests wrote to $VULNSHARE_CSAF_OUT (if set). Needs node >= 18 and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
export CSAF_VALIDATOR_DIR="${CSAF_VALIDATOR_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vulnshare/csaf-validator}"
version=2.0.10
if [ ! -f "$CSAF_VALIDATOR_DIR/node_modules/@secvisogram/csaf-validator-lib/package.json" ] ||
   ! grep -q "\"version\": \"$version\"" "$CSAF_VALIDATOR_DIR/node_modules/@secvisogram/csaf-validator-lib/package.json"; then
  mkdir -p "$CSAF_VALIDATOR_DIR"
  npm install --prefix "$CSAF_VALIDATOR_DIR" --no-audit --no-fund --silent \
    "@secvisogram/csaf-validator-lib@$version"
fi
args=()
files=()
for a in "$@"; do
  if [ "$a" = --optional ]; then args+=("$a"); else files+=("$a"); fi
done
if [ ${#files[@]} -eq 0 ]; then
  files=(crates/vulnshare-formats/tests/fixtures/csaf/*.json)
  if [ -n "${VULNSHARE_CSAF_OUT:-}" ] && compgen -G "$VULNSHARE_CSAF_OUT/*.json" >/dev/null; then
    files+=("$VULNSHARE_CSAF_OUT"/*.json)
  fi
fi
exec node scripts/check-csaf.mjs "${args[@]}" "${files[@]}"
