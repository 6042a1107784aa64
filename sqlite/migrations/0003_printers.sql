-- 0003: label printers: how the print worker reaches each one, the label media it
-- holds, and whether it is served. Print jobs name their printer (print_jobs.printer).
CREATE TABLE printers (
    name       TEXT PRIMARY KEY
               CHECK (length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9._-]*'),
    backend    TEXT NOT NULL CHECK (backend IN ('serial', 'tcp', 'file')),
    -- serial: port path (/dev/serial/by-id/...); tcp: host:port; file: device path
    address    TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 255),
    -- serial line settings "baud,bits,parity,stop,flow" (ignored by tcp and file)
    serial     TEXT NOT NULL DEFAULT '9600,8,N,1,none' CHECK (length(serial) BETWEEN 1 AND 48),
    dpi        INTEGER NOT NULL DEFAULT 203 CHECK (dpi IN (203, 300)),
    stock      TEXT NOT NULL DEFAULT '4x6' CHECK (stock IN ('4x6', '2x1')),
    -- bound on connecting, writing a job and waiting for a ~HS reply
    timeout_ms INTEGER NOT NULL DEFAULT 5000 CHECK (timeout_ms BETWEEN 100 AND 120000),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
