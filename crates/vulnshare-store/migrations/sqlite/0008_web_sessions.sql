-- Web UI sessions, shared by every server node. Only the SHA-256 of the session id is stored;
-- the CSRF token is per session and checked on every state-changing form post.
CREATE TABLE web_sessions (
    id_hash        TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id),
    csrf_token     TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_seen_at   BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

-- Failed password sign-ins per key (`account:<email>` or `ip:<address>`) within the current
-- window; a key with too many failures is locked until `locked_until`. Used by the web sign-in
-- and by POST /api/v1/auth/token alike.
CREATE TABLE sign_in_failures (
    key            TEXT PRIMARY KEY,
    failures       BIGINT NOT NULL,
    window_start   BIGINT NOT NULL,
    locked_until   BIGINT
);

-- Optional TOTP second factor (RFC 6238): the base32 secret once enrolment is confirmed.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
