-- Packing stations and the serial barcode scanners attached to them (devices issue).
-- A station names the label printer it prints to (the printers table's name; kept as
-- text so a station can be set up before its printer).

CREATE TABLE stations (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    printer    TEXT CHECK (printer IS NULL OR length(printer) BETWEEN 1 AND 64),
    created_at INTEGER NOT NULL
);

CREATE TABLE scanners (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 64),
    station_id INTEGER NOT NULL REFERENCES stations(id),
    port       TEXT NOT NULL CHECK (length(port) BETWEEN 1 AND 255),
    baud       INTEGER NOT NULL DEFAULT 9600 CHECK (baud BETWEEN 50 AND 4000000),
    data_bits  INTEGER NOT NULL DEFAULT 8 CHECK (data_bits BETWEEN 5 AND 8),
    parity     TEXT NOT NULL DEFAULT 'N' CHECK (parity IN ('N', 'O', 'E')),
    stop_bits  INTEGER NOT NULL DEFAULT 1 CHECK (stop_bits IN (1, 2)),
    flow       TEXT NOT NULL DEFAULT 'none' CHECK (flow IN ('none', 'xonxoff', 'rtscts')),
    suffix     TEXT NOT NULL DEFAULT 'cr'
               CHECK (suffix IN ('cr', 'lf', 'crlf') OR suffix GLOB 'timeout:[1-9]*'),
    prefix     TEXT NOT NULL DEFAULT '' CHECK (length(prefix) <= 16),
    enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at INTEGER NOT NULL
);
CREATE INDEX scanners_station ON scanners(station_id);
