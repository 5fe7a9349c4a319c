-- CVE Services (SQLite): organizations acting as CNAs (short name, CVE id quota), the CVE ids they
-- reserve and the records they publish or reject. Users and API keys are the platform's own.
CREATE TABLE cve_cnas (
    organization_id TEXT PRIMARY KEY REFERENCES organizations(id),
    short_name      TEXT NOT NULL UNIQUE,
    id_quota        BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

-- The last sequential number handed out per year.
CREATE TABLE cve_counters (
    year  BIGINT PRIMARY KEY,
    last  BIGINT NOT NULL
);

CREATE TABLE cve_ids (
    cve_id               TEXT PRIMARY KEY,
    cve_year             BIGINT NOT NULL,
    sequence             BIGINT NOT NULL,
    state                TEXT NOT NULL,
    owning_org_id        TEXT NOT NULL REFERENCES organizations(id),
    requested_by_org_id  TEXT NOT NULL REFERENCES organizations(id),
    requested_by_user_id TEXT NOT NULL REFERENCES users(id),
    reserved_at          BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (cve_year, sequence)
);
CREATE INDEX cve_ids_owner ON cve_ids(owning_org_id, state, cve_year);

-- The CNA container of a published or rejected CVE id (JSON as TEXT).
CREATE TABLE cve_records (
    cve_id          TEXT PRIMARY KEY REFERENCES cve_ids(cve_id),
    cna_container   TEXT NOT NULL,
    date_published  BIGINT,
    date_rejected   BIGINT,
    updated_at      BIGINT NOT NULL
);
