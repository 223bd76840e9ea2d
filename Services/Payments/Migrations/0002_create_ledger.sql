-- payments: a double-entry ledger. Every movement of money is one ledger transaction whose
-- entries sum to zero (checked at commit). An account's balance is kept in step with its
-- entries by a trigger in the same transaction, and a wallet's balance can never go negative.
-- The unused wallets table of migration 0001 is replaced by wallet accounts.
DROP TABLE payments.wallets;

CREATE TABLE payments.accounts (
    id             uuid        PRIMARY KEY,
    kind           text        NOT NULL CHECK (kind IN ('wallet', 'merchant', 'deposits')),
    user_id        uuid        UNIQUE,
    currency       char(3)     NOT NULL,
    balance_minor  bigint      NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT wallet_has_owner CHECK ((kind = 'wallet') = (user_id IS NOT NULL)),
    CONSTRAINT wallet_never_negative CHECK (kind <> 'wallet' OR balance_minor >= 0)
);

-- One merchant and one deposits (outside world) account per currency.
CREATE UNIQUE INDEX accounts_system_key ON payments.accounts (kind, currency) WHERE kind <> 'wallet';

CREATE TABLE payments.ledger_transactions (
    id          uuid        PRIMARY KEY,
    kind        text        NOT NULL CHECK (kind IN ('opening', 'deposit', 'authorization', 'void', 'refund')),
    reference   text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payments.ledger_entries (
    id              bigserial   PRIMARY KEY,
    transaction_id  uuid        NOT NULL REFERENCES payments.ledger_transactions (id),
    account_id      uuid        NOT NULL REFERENCES payments.accounts (id),
    amount_minor    bigint      NOT NULL CHECK (amount_minor <> 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ledger_entries_account_idx ON payments.ledger_entries (account_id, id DESC);
CREATE INDEX ledger_entries_transaction_idx ON payments.ledger_entries (transaction_id);

-- The balance follows the entries (the wallet_never_negative check then guards it).
CREATE FUNCTION payments.apply_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payments.accounts SET balance_minor = balance_minor + NEW.amount_minor WHERE id = NEW.account_id;
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_entries_apply AFTER INSERT ON payments.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION payments.apply_ledger_entry();

-- Entries are facts: corrections are new transactions, never edits.
CREATE FUNCTION payments.refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = '55000';
END
$$;

CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON payments.ledger_entries
    FOR EACH ROW EXECUTE FUNCTION payments.refuse_ledger_change();

-- At commit, each transaction touched must sum to zero in a single currency.
CREATE FUNCTION payments.check_ledger_transaction() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    total bigint;
    currencies int;
BEGIN
    SELECT sum(e.amount_minor), count(DISTINCT a.currency) INTO total, currencies
    FROM payments.ledger_entries e JOIN payments.accounts a ON a.id = e.account_id
    WHERE e.transaction_id = NEW.transaction_id;
    IF total <> 0 OR currencies <> 1 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %, % currencies)', NEW.transaction_id, total, currencies
            USING ERRCODE = '23514';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON payments.ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payments.check_ledger_transaction();

-- One payment per order: its authorization outcome and what became of it. A void that
-- arrives before its authorization leaves a 'voided' row with amount 0, so the late
-- authorization can never debit.
CREATE TABLE payments.payments (
    order_id        uuid        PRIMARY KEY,
    payment_id      uuid        NOT NULL UNIQUE,
    customer_id     uuid        NOT NULL,
    amount_minor    bigint      NOT NULL CHECK (amount_minor >= 0),
    currency        char(3)     NOT NULL,
    status          text        NOT NULL CHECK (status IN ('authorized', 'declined', 'voided', 'refunded')),
    decline_reason  text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Idempotency-Key → the stored response, written in the same transaction as the effect.
CREATE TABLE payments.idempotency_keys (
    user_id        uuid        NOT NULL,
    key            text        NOT NULL,
    request_hash   bytea       NOT NULL,
    status_code    int         NOT NULL,
    response_body  bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
