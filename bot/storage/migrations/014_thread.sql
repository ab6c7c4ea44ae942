-- The thread of an aspiration: what the kepala desa and the departments write to each other about it (a Balas, a
-- question "Minta info", the village's replies), text or a file kept by its Telegram file_id.
CREATE TABLE aspiration_messages (
    id              INTEGER PRIMARY KEY,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    at              TEXT NOT NULL,
    author_id       INTEGER REFERENCES people(id),
    side            TEXT NOT NULL CHECK (side IN ('desa', 'opd')),
    purpose         TEXT NOT NULL DEFAULT 'pesan' CHECK (purpose IN ('pesan', 'balas', 'minta_info', 'jawab_info')),
    kind            TEXT NOT NULL CHECK (kind IN ('text', 'photo', 'voice', 'document')),
    text            TEXT,                         -- the text, or the caption of a file
    file_id         TEXT,
    file_unique_id  TEXT,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    duration        INTEGER                       -- seconds, voice notes
);
CREATE INDEX aspiration_messages_aspiration ON aspiration_messages(aspiration_id, id);

-- Messages the bot sent straight back to a person (not through the outbox: the receipt, a /status detail) that
-- are about one aspiration, so that a Telegram reply to them joins its thread. Outbox rows carry their own ref.
CREATE TABLE aspiration_message_refs (
    chat_id         INTEGER NOT NULL,
    message_id      INTEGER NOT NULL,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id)
);

-- "Minta info": while a department waits for the village, the service-level clock stops.
ALTER TABLE aspiration_sla ADD COLUMN info_requested_at TEXT;  -- UTC ISO; NULL when nobody waits on the village
ALTER TABLE aspiration_sla ADD COLUMN info_reminded_at TEXT;   -- the one reminder to the kepala desa
ALTER TABLE aspiration_sla ADD COLUMN paused_days INTEGER NOT NULL DEFAULT 0;  -- working days paused so far

-- An aspiration an official marked as a duplicate of another (the main one): its kepala desa follows the main one.
ALTER TABLE aspirations ADD COLUMN duplicate_of INTEGER REFERENCES aspirations(id);
CREATE INDEX aspirations_duplicate_of ON aspirations(duplicate_of) WHERE duplicate_of IS NOT NULL;
