#!/usr/bin/env bash
# Fetches the pinned htmx release from the npm registry and writes its minified build to
# crates/vulnshare-server/static/htmx.min.js, which the server embeds (include_bytes!).
# After changing HTMX_VERSION, update HTMX_SHA256 in crates/vulnshare-server/src/web/assets.rs
# to the sha256 this prints; a unit test checks the committed file against it.
set -euo pipefail
HTMX_VERSION=2.0.11
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "htmx.org@${HTMX_VERSION}" >/dev/null)
tar -xzf "$tmp"/htmx.org-"${HTMX_VERSION}".tgz -C "$tmp" package/dist/htmx.min.js
cp "$tmp/package/dist/htmx.min.js" "$root/crates/vulnshare-server/static/htmx.min.js"
sha256sum "$root/crates/vulnshare-server/static/htmx.min.js"
