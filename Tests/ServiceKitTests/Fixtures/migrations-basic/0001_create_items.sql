-- A fixture: two migrations where the second depends on the first.
CREATE TABLE items (
    id    integer PRIMARY KEY,
    label text    NOT NULL
);
