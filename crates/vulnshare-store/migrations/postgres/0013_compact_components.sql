-- Stored SBOM components take about half the room they did. A national platform holds every
-- member's SBOMs: 100,000 members with 2,000 components each is 200 million rows, which at
-- about 460 bytes a row (two 38-byte SBOM ids and the package name in each row and in its
-- indexes) would not fit on the disk of the machine it is measured on. Each row now names its
-- SBOM by a number and its package by the id of a row in `component_packages`, so the two
-- indexes hold integers only.
CREATE TABLE component_packages (
    id         BIGSERIAL PRIMARY KEY,
    ecosystem  TEXT NOT NULL,
    name       TEXT NOT NULL,
    UNIQUE (ecosystem, name)
);
INSERT INTO component_packages (ecosystem, name)
    SELECT DISTINCT ecosystem, name FROM sbom_components ORDER BY ecosystem, name;

-- SBOMs are numbered in id order, so that an unfinished matching's cursor (after an SBOM id)
-- becomes the same place in number order; SBOMs uploaded later get higher numbers.
CREATE SEQUENCE sbom_numbers;
ALTER TABLE sboms ADD COLUMN number BIGINT;
UPDATE sboms SET number = ranked.n
    FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM sboms) AS ranked
    WHERE ranked.id = sboms.id;
SELECT setval('sbom_numbers', COALESCE((SELECT MAX(number) FROM sboms), 0) + 1, false);
ALTER TABLE sboms ALTER COLUMN number SET NOT NULL;
ALTER TABLE sboms ALTER COLUMN number SET DEFAULT nextval('sbom_numbers');
ALTER SEQUENCE sbom_numbers OWNED BY sboms.number;
CREATE UNIQUE INDEX sboms_number ON sboms(number);

CREATE TABLE sbom_package_components (
    sbom_number  BIGINT NOT NULL REFERENCES sboms(number),
    position     BIGINT NOT NULL,
    package_id   BIGINT NOT NULL REFERENCES component_packages(id),
    version      TEXT NOT NULL,
    purl         TEXT,
    PRIMARY KEY (sbom_number, position)
);
INSERT INTO sbom_package_components (sbom_number, position, package_id, version, purl)
    SELECT s.number, c.position, p.id, c.version, c.purl
    FROM sbom_components c
    JOIN sboms s ON s.id = c.sbom_id
    JOIN component_packages p ON p.ecosystem = c.ecosystem AND p.name = c.name;
DROP TABLE sbom_components;
ALTER TABLE sbom_package_components RENAME TO sbom_components;
ALTER TABLE sbom_components RENAME CONSTRAINT sbom_package_components_pkey TO sbom_components_pkey;
-- Components are read in (SBOM, position) order per package, a page at a time.
CREATE INDEX sbom_components_package ON sbom_components(package_id, sbom_number, position);

-- The matching cursor names the last SBOM matched by its number.
ALTER TABLE advisory_matching ADD COLUMN after_sbom_number BIGINT NOT NULL DEFAULT -1;
UPDATE advisory_matching SET after_sbom_number = COALESCE((SELECT number FROM sboms WHERE id = after_sbom), -1);
ALTER TABLE advisory_matching DROP COLUMN after_sbom;
