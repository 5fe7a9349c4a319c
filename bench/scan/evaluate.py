#!/usr/bin/env python3
"""Scores scanner outputs against the generated corpus's ground truth, per CVE.

Usage: evaluate.py GROUND_TRUTH.json TOOL=FORMAT:OUTPUT ...   (FORMAT: vulnshare | cyclonedx)

Unit of scoring: (top-level corpus file, CVE). A tool "says vulnerable" for a file when it
reports a log4j component inside that file whose status (vulnshare) or version (others, mapped
through the GHSA ranges) makes the CVE vulnerable. Expected sets come from ground-truth.json.
"""
import json
import re
import sys

CORE = {
    "CVE-2021-44228": [("2.0-beta9", "2.3.1"), ("2.4", "2.12.2"), ("2.13.0", "2.15.0")],
    "CVE-2021-45046": [("2.0-beta9", "2.3.1"), ("2.4", "2.12.2"), ("2.13.0", "2.16.0")],
    "CVE-2021-45105": [("2.0-alpha1", "2.3.1"), ("2.4", "2.12.3"), ("2.13.0", "2.17.0")],
    "CVE-2021-44832": [("2.0-beta7", "2.3.2"), ("2.4", "2.12.4"), ("2.13.0", "2.17.1")],
}
V1 = ["CVE-2021-4104", "CVE-2019-17571", "CVE-2022-23302", "CVE-2022-23305", "CVE-2022-23307"]
CVES = list(CORE) + V1


def key(version):
    # Enough Maven ordering for release versions and -alpha/-beta/-rc qualifiers.
    parts = re.split(r"[.-]", version)
    out = []
    for p in parts:
        if p.isdigit():
            out.append((2, int(p)))
        else:
            m = re.match(r"(alpha|beta|rc)(\d*)", p)
            rank = {"alpha": -3, "beta": -2, "rc": -1}.get(m.group(1), 0) if m else 0
            out.append((rank, int(m.group(2) or 0) if m else 0))
    return out + [(1, 0)]


def vulnerable_by_version(name, version):
    if not version:
        return set()
    if name == "log4j-core":
        return {cve for cve, ranges in CORE.items()
                if any(key(a) <= key(version) < key(b) for a, b in ranges)}
    if name == "log4j" and version.startswith("1."):
        return set(V1)
    return set()


def top_file(text, files):
    # syft/trivy/vulnshare paths hold copy-N/NAME; cdxgen copies jars to jar-deps-XXXX/NAME.
    for m in re.finditer(r"(?:copy-\d+|jar-deps-[^/]+)/([^/:!\"]+)", text):
        if m.group(1) in files:
            return m.group(1)
    return None


def said_vulnerable(fmt, path, files):
    said = {}
    data = json.load(open(path))
    if fmt == "vulnshare":
        for c in data["components"]:
            f = top_file(c["file"], files)
            for v in c["cves"]:
                if v["status"] == "vulnerable" and f:
                    said.setdefault(f, set()).add(v["cve"])
    else:
        for c in data.get("components", []):
            name = c.get("name", "")
            if name not in ("log4j-core", "log4j", "reload4j"):
                continue
            f = top_file(json.dumps(c), files)
            if f:
                said.setdefault(f, set()).update(vulnerable_by_version(name, c.get("version")))
    return said


def main():
    truth = json.load(open(sys.argv[1]))
    files = {t["file"] for t in truth} | set(json.load(open(sys.argv[1].replace("ground-truth.json", "files.json"))))
    expected = {}
    for t in truth:
        expected.setdefault(t["file"], set()).update(t["vulnerable"])
    print(f"{'tool':<12}" + "".join(f"{c[4:]:>16}" for c in CVES) + "   (recall/precision per CVE)")
    for arg in sys.argv[2:]:
        tool, spec = arg.split("=", 1)
        fmt, path = spec.split(":", 1)
        try:
            said = said_vulnerable(fmt, path, files)
        except (OSError, ValueError, KeyError) as e:
            print(f"{tool:<12} no usable output ({e})")
            continue
        cells = []
        for cve in CVES:
            tp = sum(1 for f in files if cve in expected.get(f, set()) and cve in said.get(f, set()))
            fn = sum(1 for f in files if cve in expected.get(f, set()) and cve not in said.get(f, set()))
            fp = sum(1 for f in files if cve not in expected.get(f, set()) and cve in said.get(f, set()))
            recall = tp / (tp + fn) if tp + fn else 1.0
            precision = tp / (tp + fp) if tp + fp else 1.0
            cells.append(f"{recall:>7.0%}/{precision:<7.0%}")
        print(f"{tool:<12}" + " ".join(f"{c:>15}" for c in cells))


if __name__ == "__main__":
    main()
