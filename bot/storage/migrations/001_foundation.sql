-- Foundation: regions, people, invitations, aspirations with attachments and history, the outbox,
-- conversation persistence, and the small tables that make restarts and duplicates safe.

CREATE TABLE kecamatan (
    code            TEXT PRIMARY KEY,             -- Kemendagri code, e.g. 35.13.02
    name            TEXT NOT NULL,
    kabupaten_code  TEXT NOT NULL,
    kabupaten_name  TEXT NOT NULL
);
CREATE INDEX kecamatan_kabupaten ON kecamatan(kabupaten_code);

CREATE TABLE desa (
    code            TEXT PRIMARY KEY,             -- Kemendagri code, e.g. 35.13.02.2001
    name            TEXT NOT NULL,
    kind            TEXT NOT NULL,                -- desa | kelurahan
    kecamatan_code  TEXT NOT NULL REFERENCES kecamatan(code)
);
CREATE INDEX desa_kecamatan ON desa(kecamatan_code);

CREATE TABLE people (
    id              INTEGER PRIMARY KEY,
    telegram_id     INTEGER UNIQUE,               -- NULL until a person from an imported roster shares their contact
    name            TEXT NOT NULL DEFAULT '',
    role            TEXT NOT NULL CHECK (role IN ('kepala_desa', 'camat', 'pejabat', 'pimpinan', 'admin')),
    desa_code       TEXT REFERENCES desa(code),
    kecamatan_code  TEXT REFERENCES kecamatan(code),
    department      TEXT,                         -- department code for officials (pejabat)
    title           TEXT,                         -- e.g. Bupati, Sekda, Kepala Dinas
    phone           TEXT,                         -- E.164 (+62...)
    active          INTEGER NOT NULL DEFAULT 1,
    blocked_bot_at  TEXT,                         -- set when Telegram says the user blocked the bot
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX people_phone ON people(phone);
CREATE INDEX people_role ON people(role);
CREATE INDEX people_desa ON people(desa_code);
CREATE INDEX people_kecamatan ON people(kecamatan_code);

CREATE TABLE invitations (
    code            TEXT PRIMARY KEY,
    role            TEXT NOT NULL,
    desa_code       TEXT REFERENCES desa(code),
    kecamatan_code  TEXT REFERENCES kecamatan(code),
    department      TEXT,
    title           TEXT,
    created_by      INTEGER,                      -- telegram id of the admin, NULL from the command line
    created_at      TEXT NOT NULL,
    expires_at      TEXT NOT NULL,
    used_by         INTEGER,
    used_at         TEXT
);

-- Failed invitation attempts, to slow down guessing.
CREATE TABLE invitation_attempts (
    id              INTEGER PRIMARY KEY,
    telegram_id     INTEGER NOT NULL,
    at              TEXT NOT NULL
);
CREATE INDEX invitation_attempts_user ON invitation_attempts(telegram_id, at);

CREATE TABLE ticket_counters (
    year            INTEGER PRIMARY KEY,
    last            INTEGER NOT NULL
);

CREATE TABLE aspirations (
    id              INTEGER PRIMARY KEY,
    ticket          TEXT NOT NULL UNIQUE,          -- ASP-2026-00042
    desa_code       TEXT NOT NULL REFERENCES desa(code),
    kecamatan_code  TEXT NOT NULL REFERENCES kecamatan(code),
    submitter_id    INTEGER NOT NULL REFERENCES people(id),
    category        TEXT NOT NULL,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'baru',
    copy_to_camat   INTEGER NOT NULL DEFAULT 0,
    confidential    INTEGER NOT NULL DEFAULT 0,
    department      TEXT,
    visit_id        INTEGER,
    submission_key  TEXT UNIQUE,                  -- makes a repeated confirmation store nothing twice
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    closed_at       TEXT
);
CREATE INDEX aspirations_desa ON aspirations(desa_code, created_at);
CREATE INDEX aspirations_kecamatan ON aspirations(kecamatan_code, status);
CREATE INDEX aspirations_submitter ON aspirations(submitter_id, created_at);
CREATE INDEX aspirations_status ON aspirations(status, created_at);

CREATE TABLE attachments (
    id              INTEGER PRIMARY KEY,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'location')),
    file_id         TEXT,
    file_unique_id  TEXT,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    latitude        REAL,
    longitude       REAL
);
CREATE INDEX attachments_aspiration ON attachments(aspiration_id, position);

CREATE TABLE aspiration_history (
    id              INTEGER PRIMARY KEY,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    at              TEXT NOT NULL,
    actor_id        INTEGER REFERENCES people(id),
    action          TEXT NOT NULL,
    from_status     TEXT,
    to_status       TEXT,
    note            TEXT
);
CREATE INDEX aspiration_history_aspiration ON aspiration_history(aspiration_id, at);

-- Messages the bot sends on its own initiative, written in the same transaction as the change they announce.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    method          TEXT NOT NULL,                -- Bot API method: sendMessage, sendPhoto, sendMediaGroup, ...
    params          TEXT NOT NULL,                -- JSON parameters of that method
    upload          BLOB,                         -- bytes of a file to upload, if any
    upload_name     TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'blocked')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    not_before      TEXT NOT NULL,                -- do not send before this moment (UTC ISO)
    dedup_key       TEXT UNIQUE,                  -- the same announcement is queued once
    broadcast_id    INTEGER,
    ref             TEXT,                         -- what the message is about, e.g. asp:42
    message_id      INTEGER,                      -- Telegram's id of the sent message, for later edits
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX outbox_due ON outbox(status, not_before, id);
CREATE INDEX outbox_broadcast ON outbox(broadcast_id, status);
CREATE INDEX outbox_ref ON outbox(ref);

-- PTB persistence (conversations, user/chat/bot data) kept beside everything else.
CREATE TABLE ptb_conversations (
    name            TEXT NOT NULL,
    key             TEXT NOT NULL,                -- JSON array of the conversation key
    state           TEXT NOT NULL,                -- JSON
    PRIMARY KEY (name, key)
);
CREATE TABLE ptb_data (
    kind            TEXT NOT NULL,                -- user | chat | bot | callback
    id              INTEGER NOT NULL,
    data            TEXT NOT NULL,                -- JSON
    PRIMARY KEY (kind, id)
);

-- Half-written aspirations, saved at every step so that nothing a kepala desa typed is lost.
CREATE TABLE drafts (
    telegram_id     INTEGER PRIMARY KEY,
    data            TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Telegram update ids already handled, so a repeated delivery is handled once.
CREATE TABLE processed_updates (
    update_id       INTEGER PRIMARY KEY,
    at              TEXT NOT NULL
);

-- Every privileged action: who, what, when.
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    actor_telegram_id INTEGER,
    action          TEXT NOT NULL,
    detail          TEXT
);

-- Runs of scheduled jobs, one row per job and period, so that a job runs once per period across restarts.
CREATE TABLE job_runs (
    job             TEXT NOT NULL,
    period          TEXT NOT NULL,
    ran_at          TEXT NOT NULL,
    PRIMARY KEY (job, period)
);

CREATE TABLE app_state (
    key             TEXT PRIMARY KEY,
    value           TEXT NOT NULL
);
