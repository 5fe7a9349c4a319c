#!/usr/bin/env bash
# Benchmark of `vulnshare hunt` against ripgrep, GNU grep and the PyPI jndi-deobfuscate, on a
# generated multi-GB log, with recall and false positives from the ground-truth labels.
# Not a test: it takes minutes and needs GBs of disk. Writes bench/hunt/RESULTS.md.
#
# usage: bench/hunt/run.sh [SIZE]          SIZE of each log, default 2G (suffixes K, M, G)
# env:   BENCH_DIR   where logs go (default bench/hunt/data, git-ignored by nobody: delete it)
#        BENCH_CACHE where jndi-deobfuscate is installed when missing (~/.cache/vulnshare-bench)
#        RUNS        hyperfine runs per command (default 3)
#        SAMPLE      what the slow Python tool runs on: `full` (default), the whole mixed log,
#                    as the issue's target asks; or a size (e.g. 20M) for a quicker sample
#        ATTACK_PERCENT  attack lines in the mixed log (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

size="${1:-2G}"
data="${BENCH_DIR:-bench/hunt/data}"
runs="${RUNS:-3}"
sample_size="${SAMPLE:-full}"
attack_percent="${ATTACK_PERCENT:-5}"
# Florian Roth's (Neo23x0) log4j RCE detection regex, as published in Dec 2021 and copied into
# many checker scripts; case-insensitive.
roth_regex='\$(\{|%7B)jndi:(ldap[s]?|rmi|dns|nis|iiop|corba|nds|http):/[^\n]+'

need() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get install -y -qq "$2" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }
    fi
    command -v "$1" >/dev/null 2>&1 || { echo "run.sh: $1 is missing; install $2" >&2; exit 2; }
}
need hyperfine hyperfine
need rg ripgrep
# The Python peer goes into a virtualenv in a cache folder (shared with bench/scan/run.sh).
cache="${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vulnshare-bench}"
python="$cache/venv/bin/python3"
if ! "$python" -c 'import jndi_deobfuscate' 2>/dev/null; then
    { [[ -x $python ]] || python3 -m venv "$cache/venv"; } &&
        "$cache/venv/bin/pip" install -q jndi-deobfuscate==0.0.2 >&2 ||
        echo "run.sh: could not install jndi-deobfuscate; it is skipped" >&2
fi

cargo build -q --release -p vulnshare
bin="${CARGO_TARGET_DIR:-$root/target}/release/vulnshare"
mkdir -p "$data"

# Both logs are regenerated only when the size or seed changes.
stamp="$size-$attack_percent-v1"
if [[ "$(cat "$data/stamp" 2>/dev/null)" != "$stamp" ]]; then
    rm -rf "$data/mixed" "$data/clean"
    "$bin" hunt --generate-corpus 5600 --seed 20211210 --out "$data/mixed" \
        --log-bytes "$size" --attack-percent "$attack_percent"
    "$bin" hunt --generate-corpus 0 --seed 7 --out "$data/clean" --log-bytes "$size" --attack-percent 0
    echo "$stamp" > "$data/stamp"
fi
mixed="$data/mixed/mixed.log"
clean="$data/clean/mixed.log"
if [[ $sample_size == full ]]; then
    sample="$mixed"
else
    head -c "$sample_size" "$mixed" | sed '$d' > "$data/sample.log"
    sample="$data/sample.log"
fi
cat "$mixed" "$clean" > /dev/null # warm the page cache

cores=$(nproc)
bytes_clean=$(stat -c %s "$clean")
bytes_mixed=$(stat -c %s "$mixed")
bytes_sample=$(stat -c %s "$sample")

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench() { # name-of-log file json-out
    local log="$2"
    hyperfine --style basic --warmup 1 --runs "$runs" -i --export-json "$3" --export-markdown "$3.md" \
        -n "vulnshare hunt ($cores threads)" "$bin hunt $log > /dev/null 2>&1" \
        -n "vulnshare hunt --threads 1" "$bin hunt --threads 1 $log > /dev/null 2>&1" \
        -n "rg -c -F '\${'" "rg -c -F '\${' $log > /dev/null" \
        -n "rg -j1 -c -F '\${'" "rg -j1 -c -F '\${' $log > /dev/null" \
        -n "rg -c -P -i (Roth regex)" "rg -c -P -i '$roth_regex' $log > /dev/null" \
        -n "grep -c -F '\${'" "LC_ALL=C grep -c -F '\${' $log > $data/grep.out" \
        >&2
}
bench clean "$clean" "$data/clean.json"
bench mixed "$mixed" "$data/mixed.json"

# The Python tool is orders of magnitude slower: one run of it, and RUNS of vulnshare, on the
# same input, one after the other (both use every core: jndi-deobfuscate forks a worker pool).
have_python_tool=0
if "$python" -c 'import jndi_deobfuscate' 2>/dev/null; then
    have_python_tool=1
    hyperfine --style basic --warmup 1 --runs "$runs" -i -N --export-json "$data/sample-vulnshare.json" \
        -n "vulnshare hunt" "$bin hunt $sample" >&2
    hyperfine --style basic --runs 1 -i --export-json "$data/sample.json" \
        -n "jndi-deobfuscate" "$python -m jndi_deobfuscate.jndi_deobfuscate -f $sample > $data/jndi-deobfuscate.out" >&2
fi

# Quality on the mixed log.
"$bin" hunt --json "$mixed" > "$data/vulnshare.jsonl" || true
rg -n -F '${' "$mixed" | cut -d: -f1 | sed 's/$/:/' > "$data/rg-F.lines" || true
rg -n -P -i "$roth_regex" "$mixed" | cut -d: -f1 | sed 's/$/:/' > "$data/rg-P.lines" || true

export bin data size runs sample_size sample attack_percent cores have_python_tool load_before
bench/hunt/report.sh > bench/hunt/RESULTS.md
echo "wrote bench/hunt/RESULTS.md" >&2
