-- Raised in the transaction of every advisory change and every change of a case's
-- participants, so each server node can keep the published advisories compiled in memory, with
-- who may read them, and know with one read when they are stale. No row (generation 0) means no
-- advisory was ever saved.
CREATE TABLE advisory_catalog (
    id          BIGINT PRIMARY KEY,
    generation  BIGINT NOT NULL
);
INSERT INTO advisory_catalog (id, generation) SELECT 1, 1 WHERE EXISTS (SELECT 1 FROM advisories);
