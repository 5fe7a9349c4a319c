-- Foundation schema (PostgreSQL). Timestamps are microseconds since the Unix epoch (UTC);
-- JSON documents are TEXT. The SQLite schema mirrors this one type for type.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    country     TEXT NOT NULL,
    membership  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    email           TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    roles           TEXT NOT NULL,
    disabled        BIGINT NOT NULL DEFAULT 0,
    created_at      BIGINT NOT NULL
);
CREATE INDEX users_organization ON users(organization_id);

CREATE TABLE api_tokens (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id),
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    scopes      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE products (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    name            TEXT NOT NULL,
    model           TEXT,
    versions        TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX products_organization ON products(organization_id);

CREATE TABLE report_counters (
    year  BIGINT PRIMARY KEY,
    last  BIGINT NOT NULL
);

CREATE TABLE reports (
    seq              BIGSERIAL PRIMARY KEY,
    id               TEXT NOT NULL UNIQUE,
    reporter_org_id  TEXT NOT NULL REFERENCES organizations(id),
    created_by       TEXT NOT NULL REFERENCES users(id),
    kind             TEXT NOT NULL,
    state            TEXT NOT NULL,
    tlp              TEXT NOT NULL,
    title            TEXT NOT NULL,
    cvss_score       DOUBLE PRECISION,
    content          TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    duplicate_of     TEXT,
    rejection_reason TEXT,
    aware_at         BIGINT,
    received_at      BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE INDEX reports_org ON reports(reporter_org_id, seq);
CREATE INDEX reports_state ON reports(state, seq);

CREATE TABLE report_aliases (
    report_id TEXT NOT NULL REFERENCES reports(id),
    alias     TEXT NOT NULL,
    PRIMARY KEY (report_id, alias)
);
CREATE INDEX report_aliases_alias ON report_aliases(alias);

CREATE TABLE report_packages (
    report_id TEXT NOT NULL REFERENCES reports(id),
    ecosystem TEXT NOT NULL,
    name      TEXT NOT NULL,
    PRIMARY KEY (report_id, ecosystem, name)
);
CREATE INDEX report_packages_name ON report_packages(ecosystem, name);

CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    at             BIGINT NOT NULL,
    actor_user_id  TEXT,
    actor_org_id   TEXT,
    action         TEXT NOT NULL,
    object_type    TEXT NOT NULL,
    object_id      TEXT NOT NULL,
    details        TEXT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_object ON audit_log(object_type, object_id);

-- The head of the audit chain, updated in the same transaction as every append. Writers lock
-- this row first, which serialises appends and lets verification detect a truncated tail.
CREATE TABLE audit_head (
    id    BIGINT PRIMARY KEY CHECK (id = 1),
    seq   BIGINT NOT NULL,
    hash  TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE signing_keys (
    key_id      TEXT PRIMARY KEY,
    secret_hex  TEXT NOT NULL,
    public_hex  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
