-- The media archive: every file people send (photos, documents, voice notes, videos) downloaded from Telegram and
-- kept under SAMBANG_MEDIA_DIR, named by its SHA-256; and the queue of downloads still to do.

-- Attachments may now be voice notes, videos and video notes; a voice note or video keeps its length in seconds.
-- (SQLite cannot change a CHECK constraint: the table is copied into a new one.)
CREATE TABLE attachments_new (
    id              INTEGER PRIMARY KEY,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    position        INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('photo', 'document', 'location', 'voice', 'video', 'video_note')),
    file_id         TEXT,
    file_unique_id  TEXT,
    file_name       TEXT,
    mime_type       TEXT,
    file_size       INTEGER,
    latitude        REAL,
    longitude       REAL,
    caption         TEXT,
    duration        INTEGER
);
INSERT INTO attachments_new(id, aspiration_id, position, kind, file_id, file_unique_id, file_name, mime_type,
                            file_size, latitude, longitude, caption)
    SELECT id, aspiration_id, position, kind, file_id, file_unique_id, file_name, mime_type, file_size, latitude,
           longitude, caption FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_aspiration ON attachments(aspiration_id, position);
CREATE INDEX attachments_file ON attachments(file_unique_id);

-- One row per distinct content: the same bytes sent twice are stored once.
CREATE TABLE media_files (
    sha256          TEXT PRIMARY KEY,
    size            INTEGER NOT NULL,
    mime_type       TEXT,
    path            TEXT NOT NULL,                -- relative to SAMBANG_MEDIA_DIR: ab/abcdef....jpg
    created_at      TEXT NOT NULL
);

-- The download queue, written in the same transaction as what the file belongs to. One row per Telegram file
-- (file_unique_id): a file sent again is not downloaded again.
CREATE TABLE media_downloads (
    id              INTEGER PRIMARY KEY,
    file_unique_id  TEXT NOT NULL UNIQUE,
    file_id         TEXT NOT NULL,
    kind            TEXT NOT NULL,
    file_name       TEXT,
    mime_type       TEXT,
    owner           TEXT NOT NULL,                -- what it was first sent with: asp:42, potensi:7
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    gone_answers    INTEGER NOT NULL DEFAULT 0,   -- answers saying the file is gone (400/404)
    next_try_at     TEXT NOT NULL,
    last_error      TEXT,
    sha256          TEXT REFERENCES media_files(sha256),
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX media_downloads_due ON media_downloads(status, next_try_at);
CREATE INDEX media_downloads_owner ON media_downloads(owner);
