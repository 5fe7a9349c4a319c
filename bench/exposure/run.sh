#!/usr/bin/env bash
# Exposure matching benchmark: 100,000 SBOM components against 10,000 advisories (target: < 2 s
# on a 2-core machine). Usage: bench/exposure/run.sh [COMPONENTS] [ADVISORIES]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q -p vulnshare-core --example exposure_bench
for _ in 1 2 3; do
  target/release/examples/exposure_bench "${1:-100000}" "${2:-10000}"
done
