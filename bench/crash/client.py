#!/usr/bin/env python3
"""Submission load for the crash test: THREADS threads submit reports to URL as fast as the
server answers, through any number of server crashes, and append every receipt they receive
(HTTP 201) to OUT, one JSON object a line, flushed at once. A request that fails (the server
was killed, or is restarting) is not retried: the client holds no receipt for it, so the
platform promised nothing. Stops when the file STOP exists.

Usage: client.py URL TOKEN OUT STOP [THREADS]
"""

import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request

URL, TOKEN, OUT, STOP = sys.argv[1:5]
THREADS = int(sys.argv[5]) if len(sys.argv) > 5 else 8

lock = threading.Lock()
counts = {"sent": 0, "receipts": 0, "failed": 0, "refused": 0}


def report(n):
    return {
        "kind": "upstream_component",
        "title": f"Crash test report {n}",
        "technical_characteristics": "Lookups in logged messages fetch remote classes over LDAP.",
        "harm": "Unauthenticated remote code execution.",
        "scope_of_impact": "Every Java application logging attacker-controlled text.",
        "affected_products": [{"vendor": "Apache Software Foundation", "name": "Apache Log4j",
                               "model": "log4j-core", "versions": ["2.0-beta9 to 2.14.1"]}],
        "affected_packages": [{"ecosystem": "Maven", "name": "org.apache.logging.log4j:log4j-core",
                               "ranges": [{"type": "ECOSYSTEM", "events": [
                                   {"introduced": "2.13.0"}, {"fixed": "2.15.0"}]}]}],
        "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "cwes": ["CWE-917"], "exploitation": "poc",
        "aware_at": "2021-11-24T02:00:00Z", "tlp": "AMBER", "aliases": ["CVE-2021-44228"],
    }


def worker(index, out):
    n = 0
    while not os.path.exists(STOP):
        n += 1
        body = json.dumps(report(f"{index}-{n}")).encode()
        request = urllib.request.Request(
            f"{URL}/api/v1/reports?submit=true", data=body, method="POST",
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        with lock:
            counts["sent"] += 1
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                filed = json.load(response)
            with lock:
                out.write(json.dumps(filed["receipt"]) + "\n")
                out.flush()
                counts["receipts"] += 1
        except urllib.error.HTTPError as e:
            with lock:
                counts["refused"] += 1
            print(f"HTTP {e.code}: {e.read()[:200]!r}", file=sys.stderr)
            time.sleep(0.05)
        except (OSError, ValueError):
            # Killed mid-request, or not listening yet: no receipt, nothing promised.
            with lock:
                counts["failed"] += 1
            time.sleep(0.05)


with open(OUT, "a", encoding="utf-8") as out:
    threads = [threading.Thread(target=worker, args=(i, out)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(json.dumps(counts))
