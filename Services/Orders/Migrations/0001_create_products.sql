-- orders: the product catalogue with stock. Money is integer minor units plus an ISO 4217 code.
CREATE TABLE orders.products (
    id           uuid        PRIMARY KEY,
    sku          text        NOT NULL UNIQUE,
    name         text        NOT NULL,
    price_minor  bigint      NOT NULL CHECK (price_minor >= 0),
    currency     char(3)     NOT NULL,
    stock        integer     NOT NULL CHECK (stock >= 0),
    created_at   timestamptz NOT NULL DEFAULT now()
);
