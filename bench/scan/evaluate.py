#!/usr/bin/env python3
"""Scores scanner outputs against the generated corpus's ground truth, per CVE.

Usage: evaluate.py GROUND_TRUTH.json [--debian DIR] TOOL=FORMAT:OUTPUT ...
       (FORMAT: vulnshare | cyclonedx)

Unit of scoring: (top-level file name, CVE); the tree holds identical copies (copy-N/ and
debian-N/), so a file name stands for all its copies. `--debian DIR` adds the jars in DIR as
files vulnerable to none of the CVEs (Debian's log4j-core 2.19.0 and its patched log4j 1.2.17).
Prints a Markdown table. A tool "says vulnerable" for a file when it
reports a log4j component inside that file whose status (vulnshare) or version (others, mapped
through the GHSA ranges) makes the CVE vulnerable. Expected sets come from ground-truth.json.
"""
import json
import os
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
    # syft/trivy/vulnshare paths hold copy-N/NAME or debian-N/NAME; cdxgen copies jars to
    # jar-deps-XXXX/NAME.
    for m in re.finditer(r"(?:copy-\d+|debian-\d+|jar-deps-[^/]+)/([^/:!\"]+)", text):
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
    args = sys.argv[1:]
    truth_path = args.pop(0)
    truth = json.load(open(truth_path))
    expected = {}
    for t in truth:
        expected.setdefault(t["file"], set()).update(t["vulnerable"])
    files = set(expected)
    files_json = truth_path.replace("ground-truth.json", "files.json")
    if os.path.exists(files_json):
        files |= set(json.load(open(files_json)))
    if args and args[0] == "--debian":
        args.pop(0)
        debian = args.pop(0)
        files |= {name for name in os.listdir(debian) if name.endswith(".jar")}
    print("| tool | " + " | ".join(CVES) + " | output |")
    print("| --- |" + " ---: |" * len(CVES) + " --- |")
    for arg in args:
        tool, spec = arg.split("=", 1)
        fmt, path = spec.split(":", 1)
        try:
            said = said_vulnerable(fmt, path, files)
        except FileNotFoundError:
            print(f"| {tool} |" + " - |" * len(CVES) + " none: no output file (stopped or failed) |")
            continue
        except (OSError, ValueError, KeyError) as e:
            print(f"| {tool} |" + " - |" * len(CVES) + f" no usable output ({type(e).__name__}) |")
            continue
        cells = []
        for cve in CVES:
            tp = sum(1 for f in files if cve in expected.get(f, set()) and cve in said.get(f, set()))
            fn = sum(1 for f in files if cve in expected.get(f, set()) and cve not in said.get(f, set()))
            fp = sum(1 for f in files if cve not in expected.get(f, set()) and cve in said.get(f, set()))
            recall = tp / (tp + fn) if tp + fn else 1.0
            precision = tp / (tp + fp) if tp + fp else 1.0
            cells.append(f"{recall:.0%} / {precision:.0%}")
        print(f"| {tool} | " + " | ".join(cells) + " | read |")
    print()
    print("Cells: recall / precision.")


if __name__ == "__main__":
    main()
