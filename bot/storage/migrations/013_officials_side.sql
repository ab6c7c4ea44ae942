-- The photo an official may send with the result note of "Selesai" (Telegram file id), shown to the kepala desa
-- with the note; the note itself is the history entry's note.
ALTER TABLE aspiration_history ADD COLUMN photo_file_id TEXT;

-- The aspiration's newest history entry when a prompt for a reason or note was opened: a status changed by someone
-- else after it is not overridden unseen when the text arrives (NULL: a prompt opened before this column).
ALTER TABLE pending_inputs ADD COLUMN seen_history_id INTEGER;
