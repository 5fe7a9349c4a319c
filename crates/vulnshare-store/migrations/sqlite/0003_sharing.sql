-- Coordinated disclosure and sharing: cases, advisories, SBOMs and exposures. Same types on
-- both engines (timestamps are BIGINT microseconds, JSON is TEXT, flags are BIGINT 0/1).
CREATE TABLE cases (
    id                  TEXT PRIMARY KEY,
    title               TEXT NOT NULL,
    tlp                 TEXT NOT NULL,
    state               TEXT NOT NULL,
    embargo_ends_at     BIGINT,
    embargo_time_zone   TEXT,
    restricted_until    BIGINT,
    early_approval_by   TEXT,
    early_approval_at   BIGINT,
    created_by          TEXT NOT NULL REFERENCES users(id),
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);

CREATE TABLE case_reports (
    case_id    TEXT NOT NULL REFERENCES cases(id),
    report_id  TEXT NOT NULL REFERENCES reports(id),
    PRIMARY KEY (case_id, report_id)
);
CREATE INDEX case_reports_report ON case_reports(report_id);

CREATE TABLE case_participants (
    case_id      TEXT NOT NULL REFERENCES cases(id),
    org_id       TEXT NOT NULL REFERENCES organizations(id),
    role         TEXT NOT NULL,
    named_users  TEXT NOT NULL,
    tracking_id  TEXT,
    joined_at    BIGINT NOT NULL,
    PRIMARY KEY (case_id, org_id)
);
CREATE INDEX case_participants_org ON case_participants(org_id);

CREATE TABLE vendor_responses (
    case_id        TEXT NOT NULL REFERENCES cases(id),
    org_id         TEXT NOT NULL REFERENCES organizations(id),
    vulnerability  TEXT NOT NULL,
    status         TEXT NOT NULL,
    statement      TEXT,
    responded_at   BIGINT,
    PRIMARY KEY (case_id, org_id, vulnerability)
);

CREATE TABLE case_messages (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    author_user_id  TEXT NOT NULL REFERENCES users(id),
    author_org_id   TEXT NOT NULL REFERENCES organizations(id),
    audience        TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX case_messages_case ON case_messages(case_id, created_at);

CREATE TABLE advisory_counters (
    year  BIGINT PRIMARY KEY,
    last  BIGINT NOT NULL
);

CREATE TABLE advisories (
    id              TEXT PRIMARY KEY,
    case_id         TEXT NOT NULL REFERENCES cases(id),
    version         BIGINT NOT NULL,
    tlp             TEXT NOT NULL,
    state           TEXT NOT NULL,
    document        TEXT NOT NULL,
    published_at    BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    withdrawn_at    BIGINT,
    withdrawn_reason TEXT
);
CREATE INDEX advisories_case ON advisories(case_id);

CREATE TABLE advisory_versions (
    advisory_id  TEXT NOT NULL REFERENCES advisories(id),
    version      BIGINT NOT NULL,
    document     TEXT NOT NULL,
    changed_by   TEXT,
    changed_at   BIGINT NOT NULL,
    change       TEXT NOT NULL,
    PRIMARY KEY (advisory_id, version)
);

CREATE TABLE sboms (
    id               TEXT PRIMARY KEY,
    product_id       TEXT NOT NULL REFERENCES products(id),
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    product_version  TEXT NOT NULL,
    format           TEXT NOT NULL,
    spec_version     TEXT NOT NULL,
    component_count  BIGINT NOT NULL,
    uploaded_by      TEXT NOT NULL REFERENCES users(id),
    uploaded_at      BIGINT NOT NULL
);
CREATE INDEX sboms_product ON sboms(product_id, product_version);

CREATE TABLE sbom_components (
    sbom_id    TEXT NOT NULL REFERENCES sboms(id),
    position   BIGINT NOT NULL,
    ecosystem  TEXT NOT NULL,
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    purl       TEXT,
    PRIMARY KEY (sbom_id, position)
);
CREATE INDEX sbom_components_package ON sbom_components(ecosystem, name);

CREATE TABLE exposures (
    advisory_id      TEXT NOT NULL REFERENCES advisories(id),
    sbom_id          TEXT NOT NULL REFERENCES sboms(id),
    position         BIGINT NOT NULL,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    product_id       TEXT NOT NULL REFERENCES products(id),
    product_version  TEXT NOT NULL,
    ecosystem        TEXT NOT NULL,
    name             TEXT NOT NULL,
    version          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (advisory_id, sbom_id, position)
);
CREATE INDEX exposures_org ON exposures(organization_id, created_at);
