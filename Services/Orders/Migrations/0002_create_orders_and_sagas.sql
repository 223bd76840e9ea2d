-- orders: the seeded catalogue, orders and their lines, stock reservations, and the saga
-- engine's persistence (instances with optimistic locking, and a step-by-step timeline).

-- stock_added: every unit ever put on the shelf, so stock conservation can be checked:
-- stock + units reserved and not released = stock_added.
ALTER TABLE orders.products ADD COLUMN stock_added integer NOT NULL DEFAULT 0;

INSERT INTO orders.products (id, sku, name, price_minor, currency, stock, stock_added) VALUES
    ('0193a000-0000-7000-8000-000000000001', 'TEA-001', 'Sencha green tea, 100 g',        899, 'EUR', 1000, 1000),
    ('0193a000-0000-7000-8000-000000000002', 'TEA-002', 'Assam breakfast tea, 250 g',     1299, 'EUR', 1000, 1000),
    ('0193a000-0000-7000-8000-000000000003', 'MUG-001', 'Stoneware mug',                  1499, 'EUR',  500,  500),
    ('0193a000-0000-7000-8000-000000000004', 'POT-001', 'Cast-iron teapot',               4999, 'EUR',  200,  200),
    ('0193a000-0000-7000-8000-000000000005', 'KET-001', 'Gooseneck kettle',               7999, 'EUR',  100,  100),
    ('0193a000-0000-7000-8000-000000000006', 'SCL-001', 'Tea scale',                      2499, 'EUR',  100,  100),
    ('0193a000-0000-7000-8000-000000000007', 'BOX-001', 'Tasting box (limited edition)',  3999, 'EUR',    5,    5),
    ('0193a000-0000-7000-8000-000000000008', 'SET-001', 'Tea ceremony set',              29999, 'EUR',   50,   50);

CREATE TABLE orders.orders (
    id                uuid        PRIMARY KEY,
    customer_id       uuid        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelling', 'cancelled')),
    total_minor       bigint      NOT NULL CHECK (total_minor > 0),
    currency          char(3)     NOT NULL,
    rejection_reason  text,
    rejection_detail  text,
    payment_id        uuid,
    idempotency_key   text        NOT NULL,
    request_hash      bytea       NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (customer_id, idempotency_key)
);

CREATE INDEX orders_customer_idx ON orders.orders (customer_id, id DESC);

CREATE TABLE orders.order_lines (
    order_id          uuid    NOT NULL REFERENCES orders.orders (id),
    product_id        uuid    NOT NULL REFERENCES orders.products (id),
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_minor  bigint  NOT NULL CHECK (unit_price_minor >= 0),
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE orders.stock_reservations (
    order_id     uuid        NOT NULL REFERENCES orders.orders (id),
    product_id   uuid        NOT NULL REFERENCES orders.products (id),
    quantity     integer     NOT NULL CHECK (quantity > 0),
    reserved_at  timestamptz NOT NULL DEFAULT now(),
    released_at  timestamptz,
    PRIMARY KEY (order_id, product_id)
);

CREATE TABLE orders.saga_instances (
    id           uuid        PRIMARY KEY,
    saga_type    text        NOT NULL,
    order_id     uuid        NOT NULL REFERENCES orders.orders (id),
    state        jsonb       NOT NULL,
    phase        text        NOT NULL,
    data         jsonb       NOT NULL,
    deadline     timestamptz,
    version      integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

CREATE INDEX saga_instances_due_idx ON orders.saga_instances (deadline) WHERE deadline IS NOT NULL;
CREATE INDEX saga_instances_order_idx ON orders.saga_instances (order_id, created_at);

CREATE TABLE orders.saga_steps (
    id          bigserial   PRIMARY KEY,
    saga_id     uuid        NOT NULL REFERENCES orders.saga_instances (id),
    kind        text        NOT NULL,
    step        text,
    command_id  uuid,
    attempt     integer,
    detail      text,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX saga_steps_saga_idx ON orders.saga_steps (saga_id, id);
