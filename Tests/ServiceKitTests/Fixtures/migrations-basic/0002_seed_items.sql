ALTER TABLE items ADD COLUMN note text NOT NULL DEFAULT 'none';
INSERT INTO items (id, label) VALUES (1, 'first; with a semicolon');
