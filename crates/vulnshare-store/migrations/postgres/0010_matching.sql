-- Matching a newly published advisory against every stored SBOM runs in batches, each its own
-- short write transaction, so that no request waits long for the audit chain's head on the day
-- an advisory exposes thousands of members. The cursor (which affected package, and the last
-- SBOM component matched) is advanced in the same transaction as the exposures it recorded:
-- whichever node runs the next batch continues where the last one committed.
CREATE TABLE advisory_matching (
    advisory_id     TEXT PRIMARY KEY,
    package_index   BIGINT NOT NULL,
    after_sbom      TEXT NOT NULL,
    after_position  BIGINT NOT NULL,
    exposures       BIGINT NOT NULL,
    batches         BIGINT NOT NULL,
    started_at      BIGINT NOT NULL,
    finished_at     BIGINT
);
CREATE INDEX advisory_matching_pending ON advisory_matching(started_at) WHERE finished_at IS NULL;

-- Components are read in (SBOM, position) order per package name, a page at a time.
DROP INDEX sbom_components_package;
CREATE INDEX sbom_components_package ON sbom_components(ecosystem, name, sbom_id, position);
