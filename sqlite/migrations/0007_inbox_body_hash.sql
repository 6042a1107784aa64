-- 0007: the inbox keeps a body's SHA-256 only where it identifies the delivery. A
-- WooCommerce delivery id is not unique, so its de-duplication key includes the body
-- hash (and so does a Shopify delivery that came without X-Shopify-Webhook-Id); every
-- other delivery is identified by its ids, and hashing its body again after the HMAC
-- was a second SHA-256 pass per acknowledgement that nothing read.
-- ALTER TABLE cannot relax a constraint, and rebuilding the table would rewrite every
-- delivery ever received (the inbox keeps them) inside the upgrade, before depotd is
-- ready. Dropping a NOT NULL and widening a CHECK does not change how rows are stored,
-- so the table's definition is edited in place as SQLite documents for such changes
-- (lang_altertable.html, "Making Other Kinds Of Table Schema Changes"); migrate.c bumps
-- the schema cookie afterwards so that every connection reloads the schema. The
-- migration fails (and nothing changes) unless exactly the expected text was replaced.

PRAGMA writable_schema = ON;
UPDATE sqlite_schema
   SET sql = replace(sql, 'body_sha256  TEXT NOT NULL CHECK (length(body_sha256) = 64)',
                     'body_sha256  TEXT CHECK (body_sha256 IS NULL OR length(body_sha256) = 64)')
 WHERE type = 'table' AND name = 'inbox';
PRAGMA writable_schema = OFF;
CREATE TEMP TABLE migration_0007_check (edited INTEGER CHECK (edited = 1));
INSERT INTO migration_0007_check
    SELECT count(*) FROM sqlite_schema
     WHERE type = 'table' AND name = 'inbox'
       AND sql LIKE '%body_sha256  TEXT CHECK (body_sha256 IS NULL OR length(body_sha256) = 64)%'
       AND sql NOT LIKE '%body_sha256  TEXT NOT NULL%';
DROP TABLE migration_0007_check;
