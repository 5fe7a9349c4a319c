-- The change feed (src/changes.rs) is PostgreSQL's LISTEN/NOTIFY; a SQLite store is one
-- process that sees its own changes, so this migration only keeps the two folders in step.
SELECT 1;
