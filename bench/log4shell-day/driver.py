#!/usr/bin/env python3
"""The "Log4Shell day" scenario against a running vulnshare server.

Phases:
  setup   MEMBERS provider organizations, each with a user, an API token and a product
          (not timed as part of the day; argon2 makes sign-in deliberately slow).
  upload  every member uploads a CycloneDX 1.6 SBOM of COMPONENTS Maven components at once
          from THREADS clients; EXPOSED_PERCENT of them list log4j-core 2.14.1.
  publish the coordinator files, triages and publishes the Log4Shell advisory (TLP:AMBER),
          which matches it against every stored SBOM, while a prober keeps reading
          /api/v1/me and filing nothing else; then it waits until every exposed member has
          its Art. 7 obligation.

Prints one JSON object with counts, rates and latency percentiles per phase. Standard
library only.

usage: driver.py BASE_URL ADMIN_TOKEN REPORTER_TOKEN   (env MEMBERS, COMPONENTS, THREADS, EXPOSED_PERCENT)

With MEMBERS_FILE set, the set-up (members, their tokens and products, and the two tokens given)
is saved there, or read from there when the file exists, so that a day can run later against the
platform a separate set-up filled (SETUP_ONLY=1 stops after the set-up).
"""

import functools
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

BASE = sys.argv[1].rstrip("/")
ADMIN = sys.argv[2]
REPORTER = sys.argv[3]
MEMBERS = int(os.environ.get("MEMBERS", "1000"))
COMPONENTS = int(os.environ.get("COMPONENTS", "2000"))
THREADS = int(os.environ.get("THREADS", "8"))
EXPOSED_PERCENT = float(os.environ.get("EXPOSED_PERCENT", "10"))
PASSWORD = "log4shell day password"
HOST = urllib.parse.urlparse(BASE)
MEMBERS_FILE = os.environ.get("MEMBERS_FILE")
SETUP_ONLY = os.environ.get("SETUP_ONLY") == "1"
# SKIP_UPLOAD=1 publishes against the SBOMs an earlier day stored (with another ADVISORY_CVE).
SKIP_UPLOAD = os.environ.get("SKIP_UPLOAD") == "1"
ADVISORY_CVE = os.environ.get("ADVISORY_CVE", "CVE-2021-44228")

local = threading.local()


def call(method, path, token=None, body=None, raw=None, content_type="application/json"):
    """One request on this thread's keep-alive connection; returns (status, json, seconds)."""
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = http.client.HTTPConnection(HOST.hostname, HOST.port, timeout=120)
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    start = time.perf_counter()
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
    except (http.client.HTTPException, OSError):
        local.conn = None
        raise
    took = time.perf_counter() - start
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    return resp.status, doc, took


def ok(status, doc, expect=(200, 201)):
    if status not in expect:
        raise RuntimeError(f"HTTP {status}: {json.dumps(doc)[:300]}")
    return doc


def percentiles(values):
    if not values:
        return {}
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]
    return {"n": len(v), "p50_ms": round(pick(0.5) * 1000, 1), "p99_ms": round(pick(0.99) * 1000, 1),
            "max_ms": round(v[-1] * 1000, 1)}


def setup_member(i):
    org = ok(*call("POST", "/api/v1/organizations", ADMIN,
                   {"name": f"Member {i:06d}", "kind": "provider", "country": "CN"})[:2])
    org_id = org["id"]
    email = f"psirt{i:06d}@member.example"
    ok(*call("POST", f"/api/v1/organizations/{org_id}/users", ADMIN,
             {"email": email, "display_name": f"PSIRT {i}", "password": PASSWORD,
              "roles": ["member", "org_admin"]})[:2])
    token = ok(*call("POST", "/api/v1/auth/token", None,
                     {"email": email, "password": PASSWORD,
                      "token": {"name": "sbom upload", "scopes": ["read", "write"]}})[:2])["secret"]
    product = ok(*call("POST", f"/api/v1/organizations/{org_id}/products", token,
                       {"name": f"Product {i}", "versions": ["1.0"]})[:2])
    return {"org_id": org_id, "token": token, "product_id": product["id"]}


def sbom(i, exposed):
    """Member i's SBOM, which depends on i only through i % 35 (the versions) and `exposed`."""
    return sbom_body(i % 35, bool(exposed))


@functools.lru_cache(maxsize=None)
def sbom_body(i, exposed):
    components = []
    for c in range(COMPONENTS):
        # Distinct artifacts per member, a shared pool across members, as real SBOMs have.
        group = f"org.example.lib{c % 400}"
        name = f"component-{c}"
        version = f"{1 + (i + c) % 7}.{c % 13}.{i % 5}"
        components.append({"type": "library", "bom-ref": f"c{c}", "name": name, "version": version,
                           "purl": f"pkg:maven/{group}/{name}@{version}"})
    if exposed:
        components[-1] = {"type": "library", "bom-ref": "log4j", "name": "log4j-core", "version": "2.14.1",
                          "purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"}
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
                       "components": components}).encode()


def set_up(report):
    """The members, set up now or read from MEMBERS_FILE; also returns the admin and reporter tokens."""
    global ADMIN, REPORTER
    if MEMBERS_FILE and os.path.exists(MEMBERS_FILE):
        with open(MEMBERS_FILE) as f:
            saved = json.load(f)
        ADMIN, REPORTER = saved["admin"], saved["reporter"]
        if len(saved["members"]) < MEMBERS:
            sys.exit(f"{MEMBERS_FILE} holds {len(saved['members'])} members, fewer than MEMBERS={MEMBERS}")
        report["setup_s"] = f"read from {MEMBERS_FILE}"
        return saved["members"][:MEMBERS]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        members = list(pool.map(setup_member, range(MEMBERS)))
    report["setup_s"] = round(time.perf_counter() - t0, 1)
    if MEMBERS_FILE:
        with open(MEMBERS_FILE, "w") as f:
            json.dump({"admin": ADMIN, "reporter": REPORTER, "members": members}, f)
    return members


def main():
    report = {"members": MEMBERS, "components_per_sbom": COMPONENTS, "threads": THREADS}
    members = set_up(report)
    if SETUP_ONLY:
        print(json.dumps(report, indent=2))
        return

    exposed_every = max(1, round(100 / EXPOSED_PERCENT)) if EXPOSED_PERCENT > 0 else 0
    exposed = sum(1 for i in range(MEMBERS) if exposed_every and i % exposed_every == 0)
    latencies, errors = [], []

    def upload(i):
        m = members[i]
        # 70 distinct bodies, built once each: 100,000 bodies of 2,000 components would not fit
        # in memory, and building each would take the CPU the platform needs.
        body = sbom(i, exposed_every and i % exposed_every == 0)
        try:
            status, doc, took = call("POST", f"/api/v1/products/{m['product_id']}/sboms?version=1.0",
                                     m["token"], raw=body)
            ok(status, doc)
            latencies.append(took)
        except Exception as e:  # noqa: BLE001 (counted and shown)
            errors.append(str(e)[:200])

    def duties(i):
        s, d, _ = call("GET", f"/api/v1/organizations/{members[i]['org_id']}/obligations", members[i]["token"])
        return len(d.get("items") or []) if s == 200 and d else 0

    exposed_ids = [i for i in range(MEMBERS) if exposed_every and i % exposed_every == 0]
    before = {i: 0 for i in exposed_ids}
    if SKIP_UPLOAD:
        report["upload"] = "skipped: the SBOMs an earlier run stored"
        before = {i: duties(i) for i in exposed_ids}
    else:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(upload, range(MEMBERS)))
        took = time.perf_counter() - t0
        report["upload"] = {"seconds": round(took, 1), "sboms_per_s": round(MEMBERS / took, 1),
                            "components_per_s": round(MEMBERS * COMPONENTS / took),
                            "errors": len(errors), "first_error": errors[:1], **percentiles(latencies)}

    # The advisory, published while a prober measures other requests' latency.
    r = ok(*call("POST", "/api/v1/reports?submit=true", REPORTER, {
        "kind": "third_party_observation", "title": "Remote code execution through JNDI lookups in log4j-core",
        "technical_characteristics": "Lookups in logged messages fetch remote classes over LDAP.",
        "affected_packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core",
                               "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}],
        "aware_at": "2021-12-09T00:00:00Z", "tlp": "AMBER", "aliases": [ADVISORY_CVE]})[:2])["report"]["id"]
    case = ok(*call("POST", "/api/v1/cases", ADMIN, {"title": "Log4Shell", "report_ids": [r]})[:2])["case"]["id"]
    probe, stop = [], threading.Event()

    def prober(token):
        while not stop.is_set():
            status, _, t = call("GET", "/api/v1/me", token)
            probe.append(t)

    writes, write_errors = [], []

    def writer(token):
        # A write waits for the audit chain's head like every other write: this is what a long
        # publication transaction would hold up.
        n = 0
        while not stop.is_set():
            n += 1
            status, _, t = call("POST", "/api/v1/reports", token, {
                "kind": "own_product", "title": f"Draft {n} filed while the advisory is matched"})
            writes.append(t)
            if status != 201:
                write_errors.append(status)

    probers = [threading.Thread(target=prober, args=(members[k]["token"],)) for k in range(min(2, MEMBERS))]
    probers.append(threading.Thread(target=writer, args=(members[min(1, MEMBERS - 1)]["token"],)))
    for p in probers:
        p.start()
    status, doc, publish_s = call("POST", f"/api/v1/cases/{case}/advisory", ADMIN,
                                  {"tlp": "AMBER", "summary": "Log4Shell", "remediation": "Upgrade to 2.15.0"})
    ok(status, doc)
    # Every exposed member gets its duty: poll the exposed members' obligations.
    t0 = time.perf_counter()
    waiting, seen = set(exposed_ids), 0
    while waiting and time.perf_counter() - t0 < 600:
        waiting = {i for i in waiting if duties(i) <= before[i]}
        seen = exposed - len(waiting)
        if waiting:
            time.sleep(0.5)
    stop.set()
    for p in probers:
        p.join()
    report["publish"] = {"request_ms": round(publish_s * 1000, 1), "exposed_members": exposed,
                         "members_with_duty": seen,
                         "all_duties_s": round(time.perf_counter() - t0 + publish_s, 1),
                         "new_exposures_in_answer": doc.get("new_exposures"),
                         "matching_complete_in_answer": doc.get("matching_complete"),
                         "other_requests_meanwhile": percentiles(probe),
                         "writes_meanwhile": {**percentiles(writes), "errors": len(write_errors)}}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
