-- Files attached to a case (patches, timelines, proof-of-concept code flagged as exploit code).
CREATE TABLE case_attachments (
    id            TEXT PRIMARY KEY,
    case_id       TEXT NOT NULL REFERENCES cases(id),
    name          TEXT NOT NULL,
    media_type    TEXT NOT NULL,
    exploit_code  BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    content       BYTEA NOT NULL,
    uploaded_by   TEXT NOT NULL REFERENCES users(id),
    uploaded_at   BIGINT NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments(case_id);
