-- Ngantor di Kecamatan: the Bupati's visits, who attends them, the villages' feedback, the commitments made
-- during visits, and the broadcasts (every message sent to many chats at once, with its own report).

CREATE TABLE visits (
    id              INTEGER PRIMARY KEY,
    kecamatan_code  TEXT NOT NULL REFERENCES kecamatan(code),
    date            TEXT NOT NULL,                -- local date of the visit, YYYY-MM-DD
    start_time      TEXT NOT NULL,                -- local start time, HH:MM
    starts_at       TEXT NOT NULL,                -- the same moment in UTC ISO, for sorting and scheduling
    place           TEXT NOT NULL,
    agenda          TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'terjadwal' CHECK (status IN ('terjadwal', 'dibatalkan')),
    revision        INTEGER NOT NULL DEFAULT 1,   -- bumped when the visit moves: announcements are per revision
    cancel_reason   TEXT,
    created_by      INTEGER,                      -- telegram id of the admin, NULL from the command line
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX visits_status_date ON visits(status, date);
CREATE INDEX visits_kecamatan ON visits(kecamatan_code, date);

-- Departments (codes, as in people.department) whose heads attend a visit and get its briefing.
CREATE TABLE visit_departments (
    visit_id        INTEGER NOT NULL REFERENCES visits(id) ON DELETE CASCADE,
    department      TEXT NOT NULL,
    PRIMARY KEY (visit_id, department)
);

-- What each kepala desa thought of a visit and of the kecamatan's services. Leadership only.
CREATE TABLE visit_feedback (
    id              INTEGER PRIMARY KEY,
    visit_id        INTEGER NOT NULL REFERENCES visits(id),
    person_id       INTEGER NOT NULL REFERENCES people(id),
    desa_code       TEXT REFERENCES desa(code),
    visit_rating    INTEGER CHECK (visit_rating BETWEEN 1 AND 5),
    service_rating  INTEGER CHECK (service_rating BETWEEN 1 AND 5),
    comment         TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (visit_id, person_id)
);

-- Promises leadership makes during a visit, followed up with the responsible department.
CREATE TABLE commitments (
    id              INTEGER PRIMARY KEY,
    visit_id        INTEGER REFERENCES visits(id),
    description     TEXT NOT NULL,
    department      TEXT NOT NULL,
    due_date        TEXT NOT NULL,                -- local date, YYYY-MM-DD
    status          TEXT NOT NULL DEFAULT 'terbuka'
                    CHECK (status IN ('terbuka', 'berjalan', 'terlaksana', 'tidak_terlaksana')),
    outcome         TEXT,                         -- the department's last word on it
    outcome_at      TEXT,
    outcome_by      INTEGER REFERENCES people(id),
    created_by      INTEGER REFERENCES people(id),
    request_key     TEXT UNIQUE,                  -- saving the same draft twice stores one commitment
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX commitments_status_due ON commitments(status, due_date);

CREATE TABLE commitment_desa (
    commitment_id   INTEGER NOT NULL REFERENCES commitments(id) ON DELETE CASCADE,
    desa_code       TEXT NOT NULL REFERENCES desa(code),
    PRIMARY KEY (commitment_id, desa_code)
);
CREATE INDEX commitment_desa_desa ON commitment_desa(desa_code);

CREATE TABLE commitment_aspirations (
    commitment_id   INTEGER NOT NULL REFERENCES commitments(id) ON DELETE CASCADE,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id),
    PRIMARY KEY (commitment_id, aspiration_id)
);

CREATE TABLE commitment_history (
    id              INTEGER PRIMARY KEY,
    commitment_id   INTEGER NOT NULL REFERENCES commitments(id) ON DELETE CASCADE,
    at              TEXT NOT NULL,
    actor_id        INTEGER REFERENCES people(id),
    status          TEXT NOT NULL,
    note            TEXT
);

-- One row per message sent to many chats (an admin's /siaran, an announcement, a briefing round, ...). Its
-- recipients are outbox rows with this broadcast_id; the report counts them by status.
CREATE TABLE broadcasts (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL,                -- siaran | pengumuman | koreksi | briefing | umpan_balik | janji
    audience        TEXT NOT NULL,                -- who, as people read it: "Semua pengguna", "Kecamatan Sumber"
    text            TEXT NOT NULL,                -- what was sent (for a siaran) or what it was about
    ref             TEXT,                         -- e.g. visit:12:h-7
    created_by      INTEGER,                      -- telegram id of the admin; NULL for scheduled ones
    request_key     TEXT UNIQUE,                  -- confirming the same siaran twice sends it once
    recipients      INTEGER NOT NULL DEFAULT 0,   -- messages queued
    skipped_blocked INTEGER NOT NULL DEFAULT 0,   -- people left out because they had blocked the bot
    created_at      TEXT NOT NULL
);
CREATE INDEX broadcasts_created ON broadcasts(created_at);

-- The sender takes the oldest pending row of each chat; this keeps that lookup cheap for large broadcasts.
CREATE INDEX outbox_chat_head ON outbox(chat_id, status, id);
