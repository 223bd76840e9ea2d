-- The relay's leader deletes idempotency records older than PAYMENTS_IDEMPOTENCY_RETENTION_HOURS
-- (ExpiredRows in App+build.swift) in chunks; this index keeps each chunk from scanning the table.
CREATE INDEX idempotency_keys_created_idx ON payments.idempotency_keys (created_at);
