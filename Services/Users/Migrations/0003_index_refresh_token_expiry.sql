-- The relay's leader deletes refresh tokens a day past their expiry (ExpiredRows in
-- App+build.swift) in chunks; this index keeps each chunk from scanning the table.
CREATE INDEX refresh_tokens_expires_idx ON users.refresh_tokens (expires_at);
