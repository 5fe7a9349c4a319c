#!/usr/bin/env bash
# Interop tests with clients this project did not write: pip-audit against the OSV API, the
# cve client of cvelib against the CVE Services API, the CSAF validators on exported CSAF
# documents, gpg on the CSAF documents' OpenPGP signatures, cyclonedx-python-lib and spdx-tools
# on the SBOM fixtures and the scanner's output, taxii2-client and stix2-validator against the
# TAXII server, and schemathesis against the OpenAPI document (no 5xx, every answer as
# documented). Tools come from the virtual environment
# target/interop-venv (made by `scripts/interop.sh --install`), npm and the system (gpg); a
# missing tool is reported as skipped (a failure when CI is set).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/interop-venv
if [ "${1:-}" = --install ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check \
    'pip-audit' 'aiosmtpd' 'csaf==2026.10.25' 'cyclonedx-python-lib[json-validation]==11.12.0' 'spdx-tools==0.8.5' \
    'cvelib' 'taxii2-client' 'stix2-validator' 'schemathesis==4.*'
  # The official OSV JSON schema, as the PyPI package `osv` bundles ossf/osv-schema.
  "$venv/bin/pip" download -q --disable-pip-version-check --no-deps 'osv==0.0.22' -d "$venv/osv-wheel"
  "$venv/bin/python" -c 'import sys, zipfile, glob
z = zipfile.ZipFile(glob.glob(sys.argv[1] + "/osv-*.whl")[0])
open(sys.argv[2], "wb").write(z.read("osv/osv-schema/validation/schema.json"))' "$venv/osv-wheel" "$venv/osv-schema.json"
  exit 0
fi
# The scripts below start and call target/debug/vulnshare. Building it as part of the workspace's
# test build (the same package selection and features as scripts/test.sh) reuses that build instead
# of compiling the server a second time with other features.
cargo nextest run --cargo-quiet --workspace --no-run
passed=0; failed=0; skipped=0
run() { # name, command…
  local name=$1; shift
  if "$@"; then passed=$((passed+1)); echo "interop ok: $name"; else failed=$((failed+1)); echo "interop FAILED: $name"; fi
}
if [ -x "$venv/bin/pip-audit" ]; then
  run "pip-audit finds the platform's advisories" env PIP_AUDIT="$venv/bin/pip-audit" bash scripts/check-pip-audit.sh
else skipped=$((skipped+1)); echo "interop skipped: pip-audit (run scripts/interop.sh --install)"; fi
if [ -f "$venv/osv-schema.json" ]; then
  run "OSV export (official OSV schema)" "$venv/bin/python" scripts/check-osv-schema.py "$venv/osv-schema.json" \
    crates/vulnshare-formats/tests/fixtures/osv/VS-2021-00001.json
else skipped=$((skipped+1)); echo "interop skipped: official OSV schema (run scripts/interop.sh --install)"; fi
if command -v gpg >/dev/null 2>&1; then
  run "gpg verifies the CSAF provider's OpenPGP signatures" bash scripts/check-csaf-pgp.sh
else skipped=$((skipped+1)); echo "interop skipped: CSAF OpenPGP signatures (no gpg)"; fi
if [ -x "$venv/bin/cve" ]; then
  run "cvelib reserves, publishes and rejects CVE ids" env CVE_BIN="$venv/bin/cve" bash scripts/check-cvelib.sh
else skipped=$((skipped+1)); echo "interop skipped: cvelib (run scripts/interop.sh --install)"; fi
export VULNSHARE_CSAF_OUT="$PWD/target/csaf-out" VULNSHARE_SBOM_OUT="$PWD/target/sbom-out"
rm -rf "$VULNSHARE_SBOM_OUT"; mkdir -p "$VULNSHARE_CSAF_OUT" "$VULNSHARE_SBOM_OUT"
cargo nextest run --workspace --no-fail-fast -E 'test(exports_are_written_for_the_external_validator) | test(osv_queries_find_published_advisories_and_respect_tlp) | test(uploaded_sboms_export_as_cyclonedx_and_spdx_with_the_same_packages)' >/dev/null 2>&1 || true
if command -v npm >/dev/null 2>&1; then
  run "CSAF validator (npm @secvisogram/csaf-validator-lib)" bash scripts/check-csaf.sh
else skipped=$((skipped+1)); echo "interop skipped: npm CSAF validator (no npm)"; fi
if [ -x "$venv/bin/csaf" ]; then
  run "CSAF validator (PyPI csaf)" "$venv/bin/csaf" validate --spec-version v20 --preset mandatory --no-network \
    crates/vulnshare-formats/tests/fixtures/csaf/*.json "$VULNSHARE_CSAF_OUT"/*.json
  run "SBOM fixtures (cyclonedx-python-lib, spdx-tools)" "$venv/bin/python" scripts/check-sbom.py validate \
    crates/vulnshare-formats/tests/fixtures/sbom/*.json
  run "SBOM round trip: the platform's CycloneDX/SPDX exports of uploaded SBOMs (cyclonedx-python-lib, spdx-tools)" \
    "$venv/bin/python" scripts/check-sbom.py roundtrip "$VULNSHARE_SBOM_OUT" crates/vulnshare-formats/tests/fixtures/sbom
  # The scanner's CycloneDX 1.6 output on its generated corpus, checked by cyclonedx-python-lib.
  scan_dir=$(mktemp -d)
  target/debug/vulnshare scan --write-corpus "$scan_dir/corpus" >/dev/null
  target/debug/vulnshare scan --cyclonedx "$scan_dir/bom.json" "$scan_dir/corpus" >/dev/null || true
  run "vulnshare scan CycloneDX output (cyclonedx-python-lib)" "$venv/bin/python" scripts/check-sbom.py validate \
    "$scan_dir/bom.json"
  rm -rf "$scan_dir"
else skipped=$((skipped+4)); echo "interop skipped: PyPI csaf and SBOM tools (run scripts/interop.sh --install)"; fi
if "$venv/bin/python" -c 'import taxii2client, stix2validator' 2>/dev/null; then
  run "TAXII 2.1 (taxii2-client) and STIX 2.1 (stix2-validator)" env VENV="$venv" bash scripts/check-taxii.sh
else skipped=$((skipped+1)); echo "interop skipped: taxii2-client and stix2-validator (run scripts/interop.sh --install)"; fi
if [ -x "$venv/bin/schemathesis" ]; then
  run "schemathesis: generated requests to every documented operation" \
    env SCHEMATHESIS="$venv/bin/schemathesis" bash scripts/check-schemathesis.sh
else skipped=$((skipped+1)); echo "interop skipped: schemathesis (run scripts/interop.sh --install)"; fi
echo "interop: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || exit 1
# Under CI every client is installed, so a skipped check is a failure there.
if [ -n "${CI:-}" ] && [ "$skipped" != 0 ]; then echo "interop: $skipped skipped under CI" >&2; exit 1; fi
