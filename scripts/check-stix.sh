#!/usr/bin/env bash
# Validates the STIX 2.1 bundle `vulnshare hunt --stix` writes, with the OASIS validator
# (PyPI `stix2-validator`), on a generated corpus. Skips (exit 0) when the validator is not
# installed; install it with `pip install stix2-validator`.
#
# Usage: scripts/check-stix.sh            (builds target/debug/vulnshare if needed)
#        VULNSHARE_BIN=path/to/vulnshare scripts/check-stix.sh
#
# Runs in strict mode (warnings fail) except for one best-practice check:
#   301  network-traffic should carry src_port and dst_port: logs do not show the client's
#        port, and inventing one would be false data.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v stix2_validator >/dev/null 2>&1; then
    echo "check-stix: stix2_validator not installed (pip install stix2-validator); skipped"
    exit 0
fi

bin="${VULNSHARE_BIN:-target/debug/vulnshare}"
if [[ ! -x "$bin" ]]; then
    cargo build -q -p vulnshare
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$bin" hunt --generate-corpus 560 --seed 20211210 --out "$work/corpus" 2>/dev/null
status=0
"$bin" hunt --stix "$work/bundle.json" --stix-producer "Example SOC" --tlp AMBER+STRICT \
    "$work/corpus" >/dev/null 2>&1 || status=$?
if [[ $status -ne 1 ]]; then
    echo "check-stix: expected exit code 1 (hits found), got $status" >&2
    exit 1
fi

stix2_validator --version 2.1 --strict --enforce-refs --disable 301 "$work/bundle.json"
echo "check-stix: bundle of $(grep -c '"type": "indicator"' "$work/bundle.json") indicators is valid STIX 2.1"
