-- Obligations are read by (party, subject), by party alone and by (status, due date); the
-- (party, subject) index serves the first two. The index on subject alone was never used by
-- any query, and the one on (party, created_at) only gave the listing an order it now sorts
-- itself: each cost every new obligation two more index insertions.
DROP INDEX obligations_subject;
DROP INDEX obligations_org;
