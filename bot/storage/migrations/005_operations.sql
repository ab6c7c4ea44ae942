-- Operations: updates received but not handled yet (so a crash between receiving an update and handling it loses
-- nothing), and indexes for the audit export and for pruning old duplicate-detection rows.

-- An update is written here before Telegram is told it arrived (the next getUpdates offset, or the webhook's 200),
-- and removed in the same transaction that marks it in processed_updates. Rows left after a crash are handled on
-- the next start.
CREATE TABLE inbound_updates (
    update_id       INTEGER PRIMARY KEY,
    data            TEXT NOT NULL,                -- the update as Bot API JSON
    received_at     TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX processed_updates_at ON processed_updates(at);
