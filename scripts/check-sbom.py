#!/usr/bin/env python3
"""SBOM fixtures for vulnshare-formats, made and checked by third-party tools.

  check-sbom.py generate DIR   write the fixture SBOMs (CycloneDX 1.4/1.5/1.6/1.7 JSON via
                               cyclonedx-python-lib, SPDX 2.3 JSON via spdx-tools) into DIR
  check-sbom.py validate FILE… validate each file: CycloneDX against its spec version's JSON
                               schema (cyclonedx-python-lib), SPDX with spdx-tools' validator
  check-sbom.py roundtrip DIR ORIGINALS
                               for each DIR/NAME.as-FORMAT.json (the platform's export of the
                               uploaded ORIGINALS/NAME.json): validate it as above and check
                               that it names the same packages (purls, read by the same tools)

Needs: pip install cyclonedx-python-lib[json-validation] spdx-tools
The generated files are deterministic (fixed serial numbers and timestamps); the Rust tests in
crates/vulnshare-formats read them. Exit status: 0 all valid, 1 a document is invalid, 2 usage.
"""

import datetime
import json
import sys
import uuid
from pathlib import Path

# The fixture's components: (group, name, version, purl type, scope, sha256 or None, children)
LOG4J_SHA256 = "ade7402a70667a727635d5c4c29495f4ff96f061f12539763f6f123973b465b0"
COMPONENTS = [
    ("org.apache.logging.log4j", "log4j-core", "2.14.1", "maven", "required", LOG4J_SHA256,
     [("org.apache.logging.log4j", "log4j-api", "2.14.1", "maven", "required", None, [])]),
    ("com.fasterxml.jackson.core", "jackson-databind", "2.13.0", "maven", "required", None, []),
    (None, "lodash", "4.17.20", "npm", "optional", None, []),
    (None, "django", "3.2.0", "pypi", "required", None, []),
    (None, "regex", "1.5.4", "cargo", "required", None, []),
    ("github.com/gin-gonic", "gin", "v1.7.0", "golang", "required", None, []),
]
SERIAL = uuid.UUID("8a4f7d4e-5d0c-4a8e-9d5f-0c4c2b6f1a01")
CREATED = datetime.datetime(2021, 12, 9, 8, 0, 0, tzinfo=datetime.timezone.utc)


def purl_of(group, name, version, ptype):
    from packageurl import PackageURL
    return PackageURL(type=ptype, namespace=group, name=name, version=version)


def cyclonedx(version):
    from cyclonedx.model import HashAlgorithm, HashType
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentScope, ComponentType
    from cyclonedx.output import make_outputter
    from cyclonedx.schema import OutputFormat, SchemaVersion

    bom = Bom(serial_number=SERIAL)
    bom.metadata.timestamp = CREATED
    root = Component(name="payments-gateway", version="4.2.0", type=ComponentType.APPLICATION,
                     bom_ref="app")
    bom.metadata.component = root

    def make(spec):
        group, name, ver, ptype, scope, sha, children = spec
        c = Component(name=name, version=ver, group=group if ptype == "maven" else None,
                      type=ComponentType.LIBRARY, purl=purl_of(group, name, ver, ptype),
                      scope=ComponentScope(scope), bom_ref=f"{ptype}:{name}@{ver}")
        if sha:
            c.hashes.add(HashType(alg=HashAlgorithm.SHA_256, content=sha))
        for child in children:
            c.components.add(make(child))
        return c

    tops = [make(spec) for spec in COMPONENTS]
    for c in tops:
        bom.components.add(c)
    bom.register_dependency(root, tops)
    log4j = tops[0]
    bom.register_dependency(log4j, list(log4j.components))
    schema = getattr(SchemaVersion, "V" + version.replace(".", "_"))
    text = make_outputter(bom, OutputFormat.JSON, schema).output_as_string(indent=2)
    return json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def spdx():
    from spdx_tools.spdx.model import (Actor, ActorType, Checksum, ChecksumAlgorithm,
                                       CreationInfo, Document, ExternalPackageRef,
                                       ExternalPackageRefCategory, Package, Relationship,
                                       RelationshipType, SpdxNoAssertion)
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream
    import io

    info = CreationInfo(spdx_version="SPDX-2.3", spdx_id="SPDXRef-DOCUMENT",
                        name="payments-gateway-4.2.0",
                        document_namespace="https://vulnshare.example/spdx/payments-gateway-4.2.0",
                        creators=[Actor(ActorType.TOOL, "vulnshare-check-sbom")],
                        created=CREATED.replace(tzinfo=None))
    packages = [Package(spdx_id="SPDXRef-app", name="payments-gateway", version="4.2.0",
                        download_location=SpdxNoAssertion(), files_analyzed=False)]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-app")]

    def add(spec, parent):
        group, name, ver, ptype, _scope, sha, children = spec
        sid = f"SPDXRef-{ptype}-{name}-{ver}".replace(".", "-").replace("_", "-")
        packages.append(Package(
            spdx_id=sid, name=f"{group}:{name}" if ptype == "maven" else name, version=ver,
            download_location=SpdxNoAssertion(), files_analyzed=False,
            checksums=[Checksum(ChecksumAlgorithm.SHA256, sha)] if sha else [],
            external_references=[ExternalPackageRef(
                ExternalPackageRefCategory.PACKAGE_MANAGER, "purl",
                str(purl_of(group, name, ver, ptype)))]))
        relationships.append(Relationship(parent, RelationshipType.DEPENDS_ON, sid))
        for child in children:
            add(child, sid)

    for spec in COMPONENTS:
        add(spec, "SPDXRef-app")
    doc = Document(info, packages=packages, relationships=relationships)
    out = io.StringIO()
    write_document_to_stream(doc, out, validate=True)
    return json.dumps(json.loads(out.getvalue()), indent=2, sort_keys=True) + "\n"


def generate(directory):
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    for version in ["1.4", "1.5", "1.6", "1.7"]:
        (d / f"cyclonedx-{version}.json").write_text(cyclonedx(version))
    (d / "spdx-2.3.json").write_text(spdx())
    print(f"wrote 5 SBOMs to {d}")


def validate(files):
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    failed = 0
    for f in files:
        text = Path(f).read_text()
        doc = json.loads(text)
        if "bomFormat" in doc:
            schema = getattr(SchemaVersion, "V" + doc["specVersion"].replace(".", "_"))
            error = JsonStrictValidator(schema).validate_str(text)
            problems = [str(error)] if error else []
        else:
            try:
                problems = [m.validation_message for m in
                            validate_full_spdx_document(parse_file(f))]
            except Exception as e:  # spdx-tools raises on documents it cannot even build
                problems = [f"does not parse: {e}"]
        for p in problems:
            print(f"{f}: {p}")
        failed += bool(problems)
        print(f"{f}: {'INVALID' if problems else 'valid'}")
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0


def purls(path):
    """The set of package purls in an SBOM, as cyclonedx-python-lib or spdx-tools reads it."""
    from packageurl import PackageURL
    doc = json.loads(Path(path).read_text())
    found = set()
    if "bomFormat" in doc:
        from cyclonedx.model.bom import Bom
        bom = Bom.from_json(doc)  # type: ignore[attr-defined]
        stack = list(bom.components)
        while stack:
            c = stack.pop()
            if c.purl is not None:
                found.add(c.purl.to_string())
            stack.extend(c.components)
    else:
        from spdx_tools.spdx.parser.parse_anything import parse_file
        for p in parse_file(str(path)).packages:
            for ref in p.external_references:
                if ref.reference_type == "purl":
                    found.add(PackageURL.from_string(ref.locator).to_string())
    return found


def roundtrip(directory, originals):
    exports = sorted(Path(directory).glob("*.as-*.json"))
    if not exports:
        print(f"no exports (*.as-*.json) in {directory}")
        return 1
    failed = validate([str(e) for e in exports])
    for e in exports:
        original = Path(originals) / (e.name.split(".as-")[0] + ".json")
        want, got = purls(original), purls(e)
        if want != got:
            print(f"{e.name}: packages differ from {original.name}: "
                  f"missing {sorted(want - got)}, extra {sorted(got - want)}")
            failed = 1
        else:
            print(f"{e.name}: the same {len(got)} packages as {original.name}")
    return 1 if failed else 0


def main(argv):
    if len(argv) == 3 and argv[0] == "roundtrip":
        return roundtrip(argv[1], argv[2])
    if len(argv) >= 2 and argv[0] == "generate":
        generate(argv[1])
        return 0
    if len(argv) >= 2 and argv[0] == "validate":
        return validate(argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
