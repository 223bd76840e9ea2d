-- users: accounts. Emails are unique case-insensitively.
CREATE TABLE users.users (
    id             uuid        PRIMARY KEY,
    email          text        NOT NULL,
    password_hash  text        NOT NULL,
    display_name   text        NOT NULL,
    role           text        NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'admin')),
    status         text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX users_email_lower_key ON users.users (lower(email));
