-- Raised in the transaction of every advisory change and every change of a case's
-- participants, so each server node can keep the published advisories compiled in memory, with
-- who may read them, and know with one read when they are stale. No row (generation 0) means no
-- advisory was ever saved.
CREATE TABLE advisory_catalog (
    id          BIGINT PRIMARY KEY,
    generation  BIGINT NOT NULL
);
INSERT INTO advisory_catalog (id, generation) SELECT 1, 1 WHERE EXISTS (SELECT 1 FROM advisories);

-- A submission looks for other members' reports of the same vulnerability. With the reporter
-- beside each alias and package, that is two index ranges (organizations before and after the
-- reporter's own) instead of a walk over every report of the vulnerability, the reporter's own
-- included, which on a busy day are most of them.
ALTER TABLE report_aliases ADD COLUMN reporter_org_id TEXT;
UPDATE report_aliases SET reporter_org_id = (SELECT reporter_org_id FROM reports WHERE reports.id = report_aliases.report_id);
DROP INDEX report_aliases_alias;
CREATE INDEX report_aliases_alias ON report_aliases(alias, reporter_org_id);
ALTER TABLE report_packages ADD COLUMN reporter_org_id TEXT;
UPDATE report_packages SET reporter_org_id = (SELECT reporter_org_id FROM reports WHERE reports.id = report_packages.report_id);
DROP INDEX report_packages_name;
CREATE INDEX report_packages_name ON report_packages(ecosystem, name, reporter_org_id);

-- A member's duties about one subject: read several times per submission. The unique index
-- (party, regime, rule, subject) serves it only by walking every duty of the party, which
-- prepared (generic) plans choose, so each submission cost more than the one before.
CREATE INDEX obligations_party_subject ON obligations(party_org_id, subject);
