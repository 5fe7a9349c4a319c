#!/usr/bin/env python3
"""Validate vulnshare's OSV exports against the official OSV JSON schema.

  check-osv-schema.py SCHEMA FILE...

SCHEMA is `validation/schema.json` of the ossf/osv-schema repository, as bundled in the PyPI
package `osv` (scripts/interop.sh --install extracts it). The official schema only admits ids
with a prefix registered by a home database (GHSA-, CVE-, PYSEC-, ...); vulnshare's own prefix
(VS-) is not registered, so that one error, on `id` only, is reported and tolerated. Every other
error fails. Exit status: 0 valid, 1 invalid, 2 usage.
"""

import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema = json.load(open(argv[1], encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    bad = 0
    for path in argv[2:]:
        doc = json.load(open(path, encoding="utf-8"))
        errors = []
        for e in validator.iter_errors(doc):
            where = "/".join(str(p) for p in e.absolute_path)
            if where == "id" and e.validator == "pattern" and str(doc.get("id", "")).startswith("VS-"):
                print(f"{path}: note: id {doc['id']!r} has vulnshare's unregistered prefix")
                continue
            errors.append(f"{path}: /{where}: {e.message}")
        if errors:
            bad += 1
            print("\n".join(errors))
        else:
            print(f"{path}: valid against the official OSV schema")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
