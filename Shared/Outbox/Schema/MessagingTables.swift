public import ServiceKit

/// The tables every service's messaging needs, in its own schema: `outbox` (what the relay
/// publishes) and `processed_messages` (the inbox that makes redelivery harmless).
///
/// Shipped as migrations 1000 (`1000_messaging_backbone`), 1001 (`1001_outbox_publish_floor`) and
/// 1002 (`1002_inbox_pruning`);
/// a service's own migrations use versions below 1000, and 1000–1099 are reserved for this
/// module. The runner applies pending versions in order, so a service may add `0002_…` after
/// 1000 was applied.
public enum MessagingTables {
    /// The migrations for `schema` (a plain lower-case identifier, checked by ``MigrationRunner``),
    /// in version order.
    public static func migrations(schema: String) throws(MigrationError) -> [Migration] {
        [
            try Migration(fileName: "1000_messaging_backbone.sql", sql: sql(schema: schema)),
            try Migration(fileName: "1001_outbox_publish_floor.sql", sql: publishFloorSQL(schema: schema)),
            try Migration(fileName: "1002_inbox_pruning.sql", sql: inboxPruningSQL(schema: schema)),
        ]
    }

    /// Lets the relay's leader find expired inbox records (`INBOX_RETENTION_HOURS`) without
    /// reading the whole table.
    static func inboxPruningSQL(schema s: String) -> String {
        "CREATE INDEX processed_messages_processed_at_idx ON \(s).processed_messages (processed_at);\n"
    }

    /// The `LISTEN` channel the outbox trigger notifies on commit.
    public static func notificationChannel(schema: String) -> String { "orderflow_outbox_\(schema)" }

    static func sql(schema s: String) -> String {
        """
        -- Transactional outbox: rows are written in the same transaction as the state change and
        -- published by the relay in id order. A row is only ever inserted after its aggregate
        -- was locked by the same transaction, so for one key id order is commit order.
        CREATE TABLE \(s).outbox (
            id            bigserial   PRIMARY KEY,
            message_id    uuid        NOT NULL UNIQUE,
            topic         text        NOT NULL,
            message_key   text,
            headers       jsonb       NOT NULL DEFAULT '[]',
            payload       bytea,
            created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
            published_at  timestamptz
        );

        CREATE INDEX outbox_unpublished_idx ON \(s).outbox (id) WHERE published_at IS NULL;
        CREATE INDEX outbox_published_at_idx ON \(s).outbox (published_at) WHERE published_at IS NOT NULL;

        -- One notification per inserting statement, delivered when the transaction commits
        -- (Postgres folds identical notifications of one transaction into one).
        CREATE FUNCTION \(s).outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('\(notificationChannel(schema: s))', '');
            RETURN NULL;
        END
        $$;

        CREATE TRIGGER outbox_notify AFTER INSERT ON \(s).outbox
            FOR EACH STATEMENT EXECUTE FUNCTION \(s).outbox_notify();

        -- Inbox: one row per (consumer, message) whose effect was committed.
        CREATE TABLE \(s).processed_messages (
            consumer      text        NOT NULL,
            message_id    uuid        NOT NULL,
            message_type  text        NOT NULL,
            processed_at  timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, message_id)
        );
        """
    }

    /// What lets the relay skip the published prefix of the outbox (``PublishFloor``): every
    /// outbox id is drawn by a transaction that already holds a transaction id, so a transaction
    /// id assigned after the sequence was read at N is above every transaction that drew an id
    /// ≤ N, and once those have ended, ids ≤ N are committed or gone. `pg_current_xact_id()`
    /// assigns the id when the transaction has none yet; `CASE` evaluates it before `nextval`.
    /// `CACHE 1` (the default, pinned here) keeps the sequence's `last_value` equal to the last
    /// id handed out. See ADR 0010.
    static func publishFloorSQL(schema s: String) -> String {
        """
        CREATE FUNCTION \(s).outbox_next_id() RETURNS bigint LANGUAGE sql VOLATILE AS $$
            SELECT CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('\(s).outbox_id_seq') END
        $$;

        ALTER SEQUENCE \(s).outbox_id_seq CACHE 1;

        ALTER TABLE \(s).outbox ALTER COLUMN id SET DEFAULT \(s).outbox_next_id();
        """
    }
}
