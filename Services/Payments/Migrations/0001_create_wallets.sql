-- payments: one wallet per user. The balance can never go negative.
CREATE TABLE payments.wallets (
    user_id        uuid        PRIMARY KEY,
    currency       char(3)     NOT NULL,
    balance_minor  bigint      NOT NULL DEFAULT 0 CHECK (balance_minor >= 0),
    created_at     timestamptz NOT NULL DEFAULT now()
);
