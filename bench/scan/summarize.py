#!/usr/bin/env python3
"""Writes the throughput part of bench/scan/RESULTS.md from the runs bench/scan/run.sh timed.

usage: summarize.py RUNS.tsv    (settings in the environment: files, bytes, copies, jar_copies,
                                 runs, peer_runs, load_before, load_after, versions)
"""
import collections
import csv
import datetime
import os
import statistics
import subprocess
import sys

NAMES = {
    "cat": "`cat` (one process, warm cache)",
    "cat-2": "`xargs -P 2 cat` (two processes)",
    "vulnshare": "`vulnshare scan --json`",
    "vulnshare-1": "`vulnshare scan --json --threads 1`",
    "vulnshare-sbom": "`vulnshare scan --json --cyclonedx FILE` (jar hashes)",
    "syft": "syft `scan dir: -o cyclonedx-json`",
    "trivy": "trivy `rootfs --offline-scan --format cyclonedx` (empty Java DB)",
    "cdxgen": "cdxgen `-t jar`",
}
# Exit statuses that mean "ran to the end" (vulnshare: 0 clean, 1 findings).
OK = {"0", "1"}
VULNSHARE = ("vulnshare", "vulnshare-1", "vulnshare-sbom")
# `timeout` ends a run that took too long with status 124: stopped, not crashed.
STOPPED = "124"


def main():
    env = os.environ
    files, size = int(env["files"]), int(env["bytes"])
    rows = collections.defaultdict(list)
    with open(sys.argv[1]) as f:
        for row in csv.DictReader(f, delimiter="\t"):
            rows[row["tool"]].append(row)
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                         capture_output=True, text=True).stdout.strip()
    print("# vulnshare scan benchmark\n")
    print(f"Reproduce: `bench/scan/run.sh {env['copies']} {env['jar_copies']}` "
          f"(RUNS={env['runs']} PEER_RUNS={env['peer_runs']}; installs the peers into "
          "`~/.cache/vulnshare-bench` when missing).")
    print(f"Measured {datetime.date.today()} on {os.cpu_count()} cores ({cpu}), shared with other "
          f"work: load average {env['load_before']} before the runs, {env['load_after']} after. "
          f"Tree in the page cache; {env['versions']}.\n")
    print(f"Tree: {files} files, {size / 1e6:.0f} MB: the generated corpus {env['copies']} times "
          f"(jars, wars, ears, tar.gz, zip bombs, nesting 20 deep, corrupt entries, renamed and "
          f"shaded classes) and Debian's jars from /usr/share/java {env['jar_copies']} times. "
          "Archive-heavy: every file is an archive.\n")
    print("Wall time is the median of the runs; peak RSS is the largest; a crash is a run that "
          "ended by a signal or with an exit status other than 0 (or 1 for vulnshare: findings); "
          "a peer stopped by its time limit is not a crash and not a candidate for fastest peer. "
          "CPU seconds come from /usr/bin/time in hundredths.\n")
    print("| tool | runs | wall s | files/s | MB/s | CPU s (user+sys) | peak RSS MB | crashes |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    walls, cpus = {}, {}
    for tool in NAMES:
        runs = rows.get(tool)
        if not runs:
            continue
        wall = statistics.median(float(r["wall"]) for r in runs)
        stopped = sum(1 for r in runs if r["status"] == STOPPED)
        if stopped < len(runs):
            walls[tool] = wall
        cpu_s = statistics.median(float(r["user"] or 0) + float(r["sys"] or 0) for r in runs)
        cpus[tool] = cpu_s
        rss = max(int(r["rss_kib"] or 0) for r in runs) / 1024
        crashes = sum(1 for r in runs if r["status"] != STOPPED and (
            r["status"] not in OK or (tool not in VULNSHARE and r["status"] != "0")))
        safe = max(wall, 0.001)
        note = f" ({stopped} stopped unfinished)" if stopped else ""
        shown = f"{wall:.2f} (stopped)" if stopped == len(runs) else f"{wall:.3f}"
        print(f"| {NAMES[tool]} | {len(runs)} | {shown} | {files / safe:,.0f} | "
              f"{size / 1e6 / safe:,.0f} | {cpu_s:.2f} | {rss:,.0f} | {crashes}{note} |")
    print()
    if "vulnshare" in walls:
        v = walls["vulnshare"]
        peers = {t: w for t, w in walls.items() if t in ("syft", "trivy", "cdxgen")}
        if peers:
            fastest = min(peers, key=peers.get)
            # The peers write SBOMs with hashes, so the like-for-like run is vulnshare's SBOM run.
            sbom = walls.get("vulnshare-sbom", v)
            print(f"- Throughput: vulnshare writing a CycloneDX SBOM (jar hashes) is "
                  f"**{peers[fastest] / sbom:.1f}x** the fastest peer ({fastest}, "
                  f"{peers[fastest]:.2f} s; {sbom:.2f} s); without hashes "
                  f"{peers[fastest] / v:.1f}x; target 10x.")
            sbom_cpu = cpus.get("vulnshare-sbom", cpus["vulnshare"])
            if sbom_cpu:
                print(f"- In CPU seconds: {fastest} {cpus[fastest]:.2f} s, vulnshare with the SBOM "
                      f"{sbom_cpu:.2f} s (**{cpus[fastest] / sbom_cpu:.1f}x**), without "
                      f"{cpus['vulnshare']:.2f} s.")
        if "cat" in walls:
            print(f"- Against `cat` of the same bytes from a warm cache: **{v / walls['cat']:.2f}x** "
                  f"its time ({v:.3f} s vs {walls['cat']:.3f} s; against two `cat` processes "
                  f"{v / walls.get('cat-2', walls['cat']):.2f}x); target within 2x.")
            if cpus.get("cat"):
                print(f"- CPU seconds (user+sys), steadier on a shared machine: "
                      f"{cpus['vulnshare']:.2f} s vs {cpus['cat']:.2f} s for `cat`, "
                      f"**{cpus['vulnshare'] / cpus['cat']:.2f}x**.")
        if "vulnshare-1" in walls:
            print(f"- One thread: {walls['vulnshare-1']:.3f} s, "
                  f"{walls['vulnshare-1'] / walls['cat']:.2f}x the time of one `cat`.")


if __name__ == "__main__":
    main()
