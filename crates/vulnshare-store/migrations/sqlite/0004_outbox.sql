-- Subscriptions and the transactional outbox of notifications to deliver.
CREATE TABLE subscriptions (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id),
    user_id          TEXT NOT NULL REFERENCES users(id),
    channel          TEXT NOT NULL,
    url              TEXT,
    secret           TEXT,
    filter           TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    disabled_at      BIGINT
);
CREATE INDEX subscriptions_org ON subscriptions(organization_id);

-- One row per (subscription, event): the unique key makes enqueueing idempotent, and a
-- delivery is claimed by a conditional UPDATE so that only one node sends it.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,
    subscription_id  TEXT NOT NULL REFERENCES subscriptions(id),
    event_kind       TEXT NOT NULL,
    event_id         TEXT NOT NULL,
    payload          TEXT NOT NULL,
    state            TEXT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    lease_until      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT,
    UNIQUE (subscription_id, event_kind, event_id)
);
CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
