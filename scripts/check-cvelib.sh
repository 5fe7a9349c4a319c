#!/usr/bin/env bash
# Interop check: the real `cve` client of cvelib (PyPI), pointed at vulnshare's CVE
# Services-compatible API, reserves ids, publishes a record from a JSON file, updates and shows
# it, rejects other reserved ids (with and without a record), reads the quota, organization
# and user, transfers an id to another CNA and counts records. The CNAs, the administrator and
# API key are made with `vulnshare admin` on a fresh SQLite database. Needs a built `vulnshare` binary (VULNSHARE_BIN, default
# target/debug/vulnshare) and `cve` on PATH (or CVE_BIN).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VULNSHARE_BIN:-target/debug/vulnshare}
CVE_BIN=${CVE_BIN:-cve}
fixtures=crates/vulnshare-server/tests/fixtures/cve-services
work=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill "$server" 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=(--data-dir "$work/data")

"$BIN" admin create-org "${data[@]}" --name "Example CNA" --kind provider --country DE > /dev/null
VULNSHARE_USER_PASSWORD='a long enough password' "$BIN" admin create-user "${data[@]}" --org "Example CNA" \
  --email cna-admin@example.org --display-name "Casey Admin" --role org_admin --role member > /dev/null
"$BIN" admin set-cna "${data[@]}" --org "Example CNA" --short-name example_cna --id-quota 10 > /dev/null
# A second CNA, to receive a transferred id.
"$BIN" admin create-org "${data[@]}" --name "Receiving CNA" --kind provider --country FR > /dev/null
"$BIN" admin set-cna "${data[@]}" --org "Receiving CNA" --short-name receiving_cna --id-quota 5 > /dev/null
key=$("$BIN" admin create-token "${data[@]}" --email cna-admin@example.org --name cve-services \
  --scope read --scope write --scope admin)

"$BIN" serve --listen "127.0.0.1:$port" "${data[@]}" 2> "$work/serve.log" &
server=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done

# cvelib joins paths onto the base URL, which therefore ends with a slash.
export CVE_API_URL="http://127.0.0.1:$port/cve-services/api/" CVE_ORG=example_cna \
  CVE_USER=cna-admin@example.org CVE_API_KEY="$key" CVE_GENERATOR=-
unset CVE_INTERACTIVE CVE_ENVIRONMENT
cve() { "$CVE_BIN" "$@" 2>&1; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

passed=0; failed=0
check() { # description, then a command whose success means the check passed
  local what=$1; shift
  if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $what"; fi
}
contains() { grep -qF -- "$2" <<< "$1" || { echo "--- expected to find: $2"; echo "$1"; return 1; }; }

out=$(cve ping)
check "cve ping reports OK" contains "$out" "OK"

out=$(cve reserve 3)
check "cve reserve 3 reports the remaining quota" contains "$out" "Remaining quota: 7"
mapfile -t ids < <(grep -oE '^CVE-[0-9]{4}-[0-9]{4,}' <<< "$out")
check "cve reserve 3 prints three ids" test "${#ids[@]}" = 3
check "the ids are reserved to the CNA" contains "$out" "Reserved by:	cna-admin@example.org (example_cna)"

out=$(cve publish "${ids[0]}" -f "$fixtures/published-container.json")
check "cve publish creates the record" contains "$out" "API response: ${ids[0]} record was successfully created."
check "the published record is PUBLISHED" contains "$out" "State:	PUBLISHED"
# Publishing again makes cvelib fall back to PUT on the CVE_RECORD_EXISTS answer.
out=$(cve publish "${ids[0]}" -f "$fixtures/published-container.json")
check "cve publish again updates the record" contains "$out" "API response: ${ids[0]} record was successfully updated."

record=$(cve show "${ids[0]}" --show-record --raw)
check "cve show -r returns the record" test "$(json <<< "$record" 'd["cveMetadata"]["state"], d["cveMetadata"]["assignerShortName"], d["containers"]["cna"]["affected"][0]["packageName"]')" \
  = "PUBLISHED example_cna org.apache.logging.log4j:log4j-core"
out=$(cve show "${ids[0]}")
check "cve show names the owning CNA" contains "$out" "Owning CNA:	example_cna"

out=$(cve reject "${ids[1]}" -f "$fixtures/rejected-container.json")
check "cve reject with a record" contains "$out" "State:	REJECTED"
out=$(cve reject "${ids[2]}")
check "cve reject without a record" contains "$out" "State:	REJECTED"

states=$(cve list --raw | json '" ".join(c["cve_id"] + "=" + c["state"] for c in sorted(d, key=lambda c: c["cve_id"]))')
check "cve list shows the states" test "$states" = "${ids[0]}=PUBLISHED ${ids[1]}=REJECTED ${ids[2]}=REJECTED"
out=$(cve list --state RESERVED)
check "cve list --state RESERVED finds none" contains "$out" "No CVEs found..."

quota=$(cve quota --raw | json 'd["id_quota"], d["total_reserved"], d["available"]')
check "cve quota counts only RESERVED ids" test "$quota" = "10 0 10"
out=$(cve org)
check "cve org shows the organization" contains "$out" "Example CNA — example_cna"
out=$(cve user)
check "cve user shows the user as ADMIN" contains "$out" "Roles:	ADMIN"

# Transfer a fresh id to the other CNA; it leaves this CNA's list.
new_id=$(cve reserve 1 | grep -oE 'CVE-[0-9]{4}-[0-9]+' | head -1)
out=$(cve transfer "$new_id" -n receiving_cna)
check "cve transfer gives the id to the other CNA" contains "$out" "Owning CNA:	receiving_cna"
out=$(cve list --state RESERVED)
check "the transferred id left this CNA's list" contains "$out" "No CVEs found..."
out=$(cve count)
check "cve count counts published and rejected records" contains "$out" "Total CVE records: 3"
out=$(cve count --state published)
check "cve count --state published" contains "$out" "Total CVE records in PUBLISHED state: 1"

# A wrong key is refused with CVE Services' error body.
out=$(CVE_API_KEY=vs_0000000000000000000000000000000000000000000000000000000000000000 "$CVE_BIN" list 2>&1 || true)
check "a wrong API key is refused" contains "$out" "'error': 'UNAUTHORIZED'"

echo "cvelib interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
