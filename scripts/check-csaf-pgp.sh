#!/usr/bin/env bash
# Interop check: GnuPG, a client this project did not write, verifies the detached OpenPGP
# signature (.asc) of a public CSAF document with the key that the provider metadata names
# (CSAF 2.0 requirements 19 and 20), and rejects the signature on a changed document.
# Needs a built `vulnshare` binary (VULNSHARE_BIN, default target/debug/vulnshare), curl,
# python3 and gpg (GPG, default gpg); exits 0 when all checks pass, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
GPG=${GPG:-gpg}
work=$(mktemp -d)
gnupg=$(mktemp -d)
source scripts/demo-server.sh
trap 'stop_demo_server; gpgconf --homedir "$gnupg" --kill all 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work" "$gnupg"' EXIT
start_demo_server
# The demo has no public advisory: publish one at TLP:CLEAR.
publish_django_advisory > /dev/null

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
# Change one thing a reader relies on: the document's title.
python3 - "$work/document.json" "$work/tampered.json" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
open(sys.argv[2], "w").write(re.sub(r'"title"(\s*):(\s*)"', r'"title"\1:\2"Changed: ', text, count=1))
PY
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
