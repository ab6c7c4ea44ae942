-- The dashboard: where each village office is (shared by its kepala desa with /lokasi, asked once), the sessions of
-- people signed in to the dashboard with Telegram, and an index for the dashboard's list and map.

-- The village office's location, one per desa; the newest share of any of its kepala desa counts.
CREATE TABLE village_locations (
    desa_code       TEXT PRIMARY KEY REFERENCES desa(code),
    latitude        REAL NOT NULL,
    longitude       REAL NOT NULL,
    set_by          INTEGER REFERENCES people(id),
    set_at          TEXT NOT NULL
);

-- Each kepala desa is asked once for the office's location (the gentle prompt); the day it was queued.
CREATE TABLE village_location_prompts (
    person_id       INTEGER PRIMARY KEY REFERENCES people(id),
    prompted_at     TEXT NOT NULL
);

-- A dashboard session: the cookie holds the id (signed); logout or expiry ends it here, whatever the cookie says.
CREATE TABLE web_sessions (
    id              TEXT PRIMARY KEY,             -- SHA-256 of the random session token
    telegram_id     INTEGER NOT NULL,
    via             TEXT NOT NULL,                -- widget | webapp
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    ended_at        TEXT
);
CREATE INDEX web_sessions_person ON web_sessions(telegram_id);

-- The dashboard's map counts the open aspirations of every village: desa, status answer it from the index.
CREATE INDEX aspirations_desa_status ON aspirations(desa_code, status, confidential);

-- An official's share read whole (the dashboard's counts and map, ``Audience.scan``): the department's aspirations
-- straight from this index, without a visit to each routing row (on the province-sized bench database about half
-- the time of the counts of a department with a third of all aspirations).
CREATE INDEX aspiration_departments_share ON aspiration_departments(department, aspiration_id);
