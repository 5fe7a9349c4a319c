#!/usr/bin/env python3
"""Scores a detector's output against the ground truth of `vulnshare hunt --generate-corpus`.

usage: score.py LABELS.jsonl HITS [--format vulnshare|lines] [--name NAME]

HITS is `vulnshare hunt --json` output (a hit counts when its class, and the callback host
when the label names one, match), or `rg -n` / `grep -n` output (`--format lines`: a line
number counts as a detection). Prints a Markdown table: recall per attack family, false
positives per look-alike family and on unlabelled (clean) lines.
"""

import argparse
import collections
import json
import sys


def load_labels(path):
    labels = {}
    with open(path) as f:
        for line in f:
            label = json.loads(line)
            labels[label["line_number"]] = label
    return labels


def load_hits(path, fmt):
    hits = collections.defaultdict(list)
    with open(path, errors="replace") as f:
        for line in f:
            if fmt == "lines":
                number, sep, _ = line.partition(":")
                if sep and number.isdigit():
                    hits[int(number)].append(None)
                continue
            obj = json.loads(line)
            if obj.get("type") == "hit":
                hits[obj["line_number"]].append(obj)
    return hits


def correct(label, line_hits):
    for hit in line_hits:
        if hit is None:
            return True
        if hit["class"] != label["class"]:
            continue
        if label.get("host") and hit.get("target_host") != label["host"]:
            continue
        return True
    return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("labels")
    parser.add_argument("hits")
    parser.add_argument("--format", choices=["vulnshare", "lines"], default="vulnshare")
    parser.add_argument("--name", default="detector")
    args = parser.parse_args()
    labels = load_labels(args.labels)
    hits = load_hits(args.hits, args.format)

    found = collections.Counter()
    total = collections.Counter()
    for number, label in labels.items():
        total[label["family"], label["attack"]] += 1
        line_hits = hits.get(number, [])
        if label["attack"]:
            found[label["family"], True] += correct(label, line_hits)
        else:
            found[label["family"], False] += bool(line_hits)
    clean_fp = sum(1 for n in hits if n not in labels)

    attacks = sorted(k for k in total if k[1])
    benign = sorted(k for k in total if not k[1])
    attack_found = sum(found[k] for k in attacks)
    attack_total = sum(total[k] for k in attacks)
    print(f"### {args.name}\n")
    print("| family | attack lines | detected | recall |")
    print("| --- | ---: | ---: | ---: |")
    for key in attacks:
        print(f"| {key[0]} | {total[key]} | {found[key]} | {100 * found[key] / total[key]:.1f}% |")
    print(f"| **all attacks** | {attack_total} | {attack_found} | "
          f"**{100 * attack_found / max(attack_total, 1):.2f}%** |")
    print()
    print("| look-alike family | lines | false positives |")
    print("| --- | ---: | ---: |")
    for key in benign:
        print(f"| {key[0]} | {total[key]} | {found[key]} |")
    print(f"| clean (unlabelled) lines | - | {clean_fp} |")
    print()
    false_positives = sum(found[k] for k in benign) + clean_fp
    print(f"recall {attack_found}/{attack_total}, false positives {false_positives}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
