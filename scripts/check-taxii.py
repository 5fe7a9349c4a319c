"""Drives vulnshare's TAXII 2.1 server with the OASIS client (PyPI taxii2-client).

Usage: check-taxii.py BASE_URL OUT_DIR
Environment: A_EMAIL/A_TOKEN (member of org A), B_EMAIL/B_TOKEN (member of org B).
Lists collections, adds a bundle, polls the status until complete, reads the objects back,
checks that org B is refused org A's AMBER object, and writes every object the platform
served to OUT_DIR/served-<collection>.json for stix2_validator.
"""

import json
import os
import sys
import uuid

import requests
from taxii2client.v21 import Server, as_pages

base, out = sys.argv[1], sys.argv[2]
a = (os.environ["A_EMAIL"], os.environ["A_TOKEN"])
b = (os.environ["B_EMAIL"], os.environ["B_TOKEN"])
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


anonymous = Server(base + "/taxii2/")
root = anonymous.api_roots[0]
check([c.title for c in root.collections] == ["TLP:CLEAR (public)"], "anonymous callers see only the CLEAR collection")

server = Server(base + "/taxii2/", user=a[0], password=a[1])
root = server.default
titles = {c.title: c for c in root.collections}
check(len(titles) == 4, "a member sees four collections: %s" % sorted(titles))
amber = next(c for c in root.collections if c.title.startswith("TLP:AMBER"))
green = next(c for c in root.collections if c.title.startswith("TLP:GREEN"))
check(amber.can_write and amber.can_read, "the AMBER collection is readable and writable")

now = "2021-12-10T08:00:00.000Z"
indicator_id = "indicator--%s" % uuid.uuid4()
identity_id = "identity--%s" % uuid.uuid4()
amber_marking = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
bundle = {
    "type": "bundle",
    "id": "bundle--%s" % uuid.uuid4(),
    "objects": [
        {"type": "identity", "spec_version": "2.1", "id": identity_id, "created": now, "modified": now,
         "name": "Org A SOC", "identity_class": "organization", "object_marking_refs": [amber_marking]},
        {"type": "indicator", "spec_version": "2.1", "id": indicator_id, "created": now, "modified": now,
         "created_by_ref": identity_id, "name": "Log4Shell callback",
         "description": "Callback domain seen in JNDI lookups in our web logs", "indicator_types": ["malicious-activity"],
         "pattern": "[domain-name:value = 'callback.attacker.example']", "pattern_type": "stix",
         "pattern_version": "2.1", "valid_from": now, "object_marking_refs": [amber_marking]},
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--not-a-uuid", "created": now},
    ],
}
status = amber.add_objects(json.dumps(bundle), wait_for_completion=False)
status.wait_until_final(poll_interval=0.2, timeout=10)
check(status.status == "complete", "the add completes (status polled at %s)" % status.url)
check((status.total_count, status.success_count, status.failure_count, status.pending_count) == (3, 2, 1, 0),
      "per-object status counts: %s/%s/%s/%s" % (status.total_count, status.success_count, status.failure_count, status.pending_count))

envelope = amber.get_object(indicator_id)
check([o["id"] for o in envelope.get("objects", [])] == [indicator_id], "org A reads its AMBER indicator back")
pages = list(as_pages(amber.get_objects, per_request=1))
check(len(pages) >= 2 and any(indicator_id in json.dumps(p) for p in pages), "paging with limit=1 walks %d pages" % len(pages))
manifest = amber.get_manifest()
check(any(m["id"] == indicator_id for m in manifest.get("objects", [])), "the manifest lists the indicator")

# Org B: a foreign member, not entitled to A's AMBER object.
b_server = Server(base + "/taxii2/", user=b[0], password=b[1])
b_amber = next(c for c in b_server.default.collections if c.title.startswith("TLP:AMBER"))
try:
    b_amber.get_object(indicator_id)
    check(False, "org B is refused org A's AMBER object")
except requests.exceptions.HTTPError as e:
    check(e.response.status_code == 404, "org B is refused org A's AMBER object (%s)" % e.response.status_code)
listing = b_amber.get_objects()
check(indicator_id not in json.dumps(listing), "org B's AMBER listing does not show it")
try:
    Server(base + "/taxii2/", user=b[0], password="vs_" + "0" * 64).default.collections
    check(False, "a wrong token is refused")
except requests.exceptions.HTTPError as e:
    check(e.response.status_code == 401, "a wrong token is refused (401)")

# Everything the platform serves, for the validator.
for collection in root.collections:
    objects = []
    for page in as_pages(collection.get_objects, per_request=50, version="all"):
        objects.extend(page.get("objects", []))
    name = collection.title.split(" ")[0].replace(":", "-").lower()
    with open(os.path.join(out, "served-%s.json" % name), "w") as f:
        json.dump({"type": "bundle", "id": "bundle--%s" % uuid.uuid4(), "objects": objects}, f, indent=1)
    print("     %s: %d objects written for validation" % (collection.title, len(objects)))

if failures:
    sys.exit("check-taxii: %d check(s) failed" % len(failures))
