-- STIX objects posted to the TAXII 2.1 collections, one row per object version. The collection
-- fixes the TLP label; the posting organization owns the object (only it may delete it).
CREATE TABLE taxii_objects (
    collection_id  TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    version        TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    spec_version   TEXT NOT NULL,
    tlp            TEXT NOT NULL,
    owner_org_id   TEXT NOT NULL REFERENCES organizations(id),
    posted_by      TEXT NOT NULL REFERENCES users(id),
    date_added     BIGINT NOT NULL,
    document       TEXT NOT NULL,
    PRIMARY KEY (collection_id, object_id, version)
);
CREATE INDEX taxii_objects_added ON taxii_objects(collection_id, date_added);

-- The status resource of each POST to a collection's objects (the whole TAXII status as JSON).
CREATE TABLE taxii_status (
    id             TEXT PRIMARY KEY,
    collection_id  TEXT NOT NULL,
    owner_org_id   TEXT NOT NULL REFERENCES organizations(id),
    requested_at   BIGINT NOT NULL,
    document       TEXT NOT NULL
);
