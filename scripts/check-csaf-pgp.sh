#!/usr/bin/env bash
# Interop check: GnuPG, a client this project did not write, verifies the detached OpenPGP
# signature (.asc) of a public CSAF document with the key that the provider metadata names
# (CSAF 2.0 requirements 19 and 20), and rejects the signature on a changed document.
# Needs a built `vulnshare` binary (VULNSHARE_BIN, default target/debug/vulnshare), curl,
# python3 and gpg (GPG, default gpg); exits 0 when all checks pass, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${VULNSHARE_BIN:-target/debug/vulnshare}
GPG=${GPG:-gpg}
work=$(mktemp -d)
gnupg=$(mktemp -d)
# Port 0: the system picks a free port, which the server prints.
"$BIN" serve --demo --listen 127.0.0.1:0 --data-dir "$work/data" 2> "$work/serve.log" &
server=$!
trap 'kill $server 2>/dev/null || true; gpgconf --homedir "$gnupg" --kill all 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work" "$gnupg"' EXIT
for _ in $(seq 1 300); do grep -q "listening on" "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's|^vulnshare listening on \(http://[^ ]*\)$|\1|p' "$work/serve.log")
[ -n "$base" ] || { echo "FAIL: the server did not start:"; cat "$work/serve.log"; exit 1; }
api="$base/api/v1"
token() { grep "demo account: $1" "$work/serve.log" | awk '{print $NF}'; }
ADMIN=$(token "Platform Operator")
REPORTER=$(token "Example Operator")
post() { curl -sf -X POST "$api$2" -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# The demo has no public advisory: publish one at TLP:CLEAR.
report=$(post "$REPORTER" "/reports?submit=true" '{
  "kind": "third_party_observation", "title": "SQL injection in Django QuerySet.annotate",
  "technical_characteristics": "Column aliases passed to annotate() are not quoted.",
  "affected_packages": [{"ecosystem": "PyPI", "name": "django",
     "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "3.2"}, {"fixed": "3.2.14"}]}]}],
  "aware_at": "2022-07-01T00:00:00Z", "tlp": "CLEAR", "aliases": ["CVE-2022-34265"]}' | json '["report"]["id"]')
for to in triaged coordinating fix_available; do
  post "$ADMIN" "/reports/$report/transitions" "{\"to\": \"$to\"}" > /dev/null
done
case_id=$(post "$ADMIN" /cases "{\"title\": \"django\", \"report_ids\": [\"$report\"]}" | json '["case"]["id"]')
post "$ADMIN" "/cases/$case_id/advisory" '{"tlp": "CLEAR", "summary": "SQL injection in Django", "remediation": "Upgrade to 3.2.14"}' > /dev/null

# What a CSAF client does: provider metadata, then the key it names, then document and signature.
curl -sf "$base/.well-known/csaf/provider-metadata.json" -o "$work/provider-metadata.json"
fingerprint=$(json '["public_openpgp_keys"][0]["fingerprint"]' < "$work/provider-metadata.json")
key_url=$(json '["public_openpgp_keys"][0]["url"]' < "$work/provider-metadata.json")
curl -sf "$key_url" -o "$work/key.asc"
document=$(curl -sf "$base/.well-known/csaf/white/index.txt" | head -n 1)
curl -sf "$base/.well-known/csaf/white/$document" -o "$work/document.json"
curl -sf "$base/.well-known/csaf/white/$document.asc" -o "$work/document.json.asc"

passed=0; failed=0
check() { # name, command…
  local name=$1; shift
  if "$@"; then passed=$((passed+1)); else failed=$((failed+1)); echo "FAIL: $name"; fi
}
"$GPG" --homedir "$gnupg" --batch --quiet --import "$work/key.asc" 2> "$work/import.log"
imported=$("$GPG" --homedir "$gnupg" --batch --with-colons --fingerprint | awk -F: '$1 == "fpr" {print $10; exit}')
check "the served key has the fingerprint the metadata names ($imported vs $fingerprint)" \
  test "$imported" = "$fingerprint"
set +e
"$GPG" --homedir "$gnupg" --batch --status-fd 1 --verify "$work/document.json.asc" "$work/document.json" \
  > "$work/verify.status" 2> "$work/verify.log"
good_rc=$?
sed 's/"Upgrade to 3.2.14"/"Nothing to do"/' "$work/document.json" > "$work/tampered.json"
"$GPG" --homedir "$gnupg" --batch --status-fd 1 --verify "$work/document.json.asc" "$work/tampered.json" \
  > "$work/tampered.status" 2> "$work/tampered.log"
tampered_rc=$?
set -e
check "gpg verifies the signature of $document" \
  bash -c '[ "$1" = 0 ] && grep -q "^\[GNUPG:\] VALIDSIG $2 " "$3"' _ "$good_rc" "$fingerprint" "$work/verify.status"
check "the document was changed for the tampering check" \
  bash -c '! cmp -s "$1" "$2"' _ "$work/document.json" "$work/tampered.json"
check "gpg rejects the signature on a changed document" \
  bash -c '[ "$1" != 0 ] && grep -q "^\[GNUPG:\] BADSIG " "$2"' _ "$tampered_rc" "$work/tampered.status"
[ "$failed" = 0 ] || { cat "$work/import.log" "$work/verify.status" "$work/verify.log"; }
echo "CSAF OpenPGP interop (gpg): $passed passed, $failed failed"
[ "$failed" = 0 ]
