-- users: refresh tokens, stored as SHA-256 hashes. Each login starts a family; every refresh
-- marks the presented token used and adds its successor to the family. Presenting a used or
-- revoked token revokes the whole family (it was stolen or replayed).
CREATE TABLE users.refresh_tokens (
    id          uuid        PRIMARY KEY,
    family_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES users.users (id),
    token_hash  bytea       NOT NULL UNIQUE,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    used_at     timestamptz,
    revoked_at  timestamptz
);

CREATE INDEX refresh_tokens_family_idx ON users.refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON users.refresh_tokens (user_id);
