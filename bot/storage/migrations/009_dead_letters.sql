-- Updates that could not be handled: stored on arrival, retried a few times, then set aside here instead of being
-- retried on every start. An admin lists them (/gagal, `sambang deadletters list`) and replays them.

-- How often handling an update failed so far (retries carry it across a restart), and when it was stored by the
-- real clock (the health check looks for updates waiting longer than a minute).
ALTER TABLE inbound_updates ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE inbound_updates ADD COLUMN stored_at TEXT;

CREATE TABLE dead_letters (
    update_id       INTEGER PRIMARY KEY,
    data            TEXT NOT NULL,                -- the update as Bot API JSON (as received, if it could not be read)
    user_id         INTEGER,                      -- the sender, if known
    chat_id         INTEGER,
    summary         TEXT NOT NULL DEFAULT '',     -- what it was (a command, a button, a photo), never the text
    reason          TEXT NOT NULL,                -- the last error, one line
    attempts        INTEGER NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replay', 'replayed')),
    failed_at       TEXT NOT NULL,
    replayed_at     TEXT,
    replayed_by     INTEGER                       -- telegram id of the admin, NULL from the command line
);
CREATE INDEX dead_letters_status ON dead_letters(status);
