-- The caption a kepala desa wrote under a photo or document ("retak di sisi timur"): kept with the attachment and
-- shown to the officials who handle the aspiration.
ALTER TABLE attachments ADD COLUMN caption TEXT;

-- Text a kepala desa typed outside any flow, offered back as the start of an aspiration ("Jadikan aspirasi"):
-- kept here, not in the button, so the button still works after a restart. One per person, the newest.
CREATE TABLE offered_texts (
    telegram_id     INTEGER PRIMARY KEY,
    text            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
