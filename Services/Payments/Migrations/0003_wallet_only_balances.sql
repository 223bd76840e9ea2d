-- payments: only wallets keep a running balance.
--
-- Migration 0002 kept every account's balance in step with its entries, the merchant and
-- deposits accounts included. Every authorization, void and refund of every customer then
-- updated the one merchant row of its currency, so payments serialized on that row's lock:
-- `make bench-saga` measured 9-13 ms mean lock waits per statement there (pg_stat_statements).
-- A wallet's balance is what the wallet_never_negative check guards, so wallets keep theirs;
-- a system account's balance is the sum of its entries (see payments.account_balances), and
-- its row is no longer written after it is created.
-- The default stays 0, so a wallet opened by a binary from before this migration (which names
-- no balance) still passes the CHECK below; system accounts are created with an explicit NULL.
ALTER TABLE payments.accounts ALTER COLUMN balance_minor DROP NOT NULL;
UPDATE payments.accounts SET balance_minor = NULL WHERE kind <> 'wallet';
ALTER TABLE payments.accounts ADD CONSTRAINT balance_kept_for_wallets_only
    CHECK ((kind = 'wallet') = (balance_minor IS NOT NULL));

CREATE OR REPLACE FUNCTION payments.apply_ledger_entry() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Rows failing `kind = 'wallet'` are neither updated nor locked.
    UPDATE payments.accounts SET balance_minor = balance_minor + NEW.amount_minor
    WHERE id = NEW.account_id AND kind = 'wallet';
    RETURN NEW;
END
$$;

-- Every account's balance: a wallet's as kept, a system account's summed from its entries.
CREATE VIEW payments.account_balances AS
SELECT a.id, a.kind, a.user_id, a.currency,
       coalesce(a.balance_minor, (SELECT coalesce(sum(e.amount_minor), 0) FROM payments.ledger_entries e WHERE e.account_id = a.id))
           AS balance_minor
FROM payments.accounts a;
