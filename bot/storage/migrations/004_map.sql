-- The map of problems and potential: what each village can offer (its potential), the half-written entries of
-- /potensi, and an index that lets the recap and the exports aggregate 100,000 aspirations in SQL.

-- A village's potential (part of the village profile, not a ticket). Any kepala desa of the village may change it.
CREATE TABLE village_potential (
    id              INTEGER PRIMARY KEY,
    desa_code       TEXT NOT NULL REFERENCES desa(code),
    kind            TEXT NOT NULL CHECK (kind IN ('pertanian', 'peternakan', 'perikanan', 'wisata', 'umkm', 'sda',
                                                  'lainnya')),
    description     TEXT NOT NULL,
    latitude        REAL,
    longitude       REAL,
    created_by      INTEGER REFERENCES people(id),
    updated_by      INTEGER REFERENCES people(id),
    submission_key  TEXT UNIQUE,                  -- pressing "Simpan" twice stores one entry
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX village_potential_desa ON village_potential(desa_code, kind);

CREATE TABLE village_potential_photos (
    id              INTEGER PRIMARY KEY,
    potential_id    INTEGER NOT NULL REFERENCES village_potential(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    file_id         TEXT NOT NULL,
    file_unique_id  TEXT,
    file_size       INTEGER
);
CREATE INDEX village_potential_photos_entry ON village_potential_photos(potential_id, position);

-- Half-written /potensi entries, saved at every step (like aspiration drafts, but apart from them).
CREATE TABLE potential_drafts (
    telegram_id     INTEGER PRIMARY KEY,
    data            TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- /rekap and the weekly charts group by kecamatan x category x status; this index answers that without the table.
CREATE INDEX aspirations_map ON aspirations(kecamatan_code, category, status, confidential);
