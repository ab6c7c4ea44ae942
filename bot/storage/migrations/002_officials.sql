-- Officials: departments (OPD) and the categories they handle, aspirations routed to one or more
-- departments, group inboxes, service levels per aspiration, and the short text prompts officials answer.

CREATE TABLE departments (
    code            TEXT PRIMARY KEY,             -- PUPR, DINKES, ... upper case, at most 20 characters
    name            TEXT NOT NULL,                -- Dinas Pekerjaan Umum dan Penataan Ruang
    active          INTEGER NOT NULL DEFAULT 1,   -- 0 once an admin removed it (history keeps the code)
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);

-- Which departments handle a category. A category without rows goes to the admins (Lainnya); a confidential
-- category (Kinerja Kecamatan) never has rows: it goes to leadership only.
CREATE TABLE category_routes (
    category        TEXT NOT NULL,
    department      TEXT NOT NULL REFERENCES departments(code) ON DELETE CASCADE,
    PRIMARY KEY (category, department)
);

-- A Telegram group registered (/inbox) as a department's inbox: one group per department.
CREATE TABLE department_inboxes (
    department      TEXT PRIMARY KEY REFERENCES departments(code) ON DELETE CASCADE,
    chat_id         INTEGER NOT NULL,
    title           TEXT,
    registered_by   INTEGER,                      -- telegram id of the admin or official who ran /inbox
    registered_at   TEXT NOT NULL
);
CREATE INDEX department_inboxes_chat ON department_inboxes(chat_id);

-- The departments responsible for an aspiration; a redirect releases one and adds another.
CREATE TABLE aspiration_departments (
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    department      TEXT NOT NULL,
    active          INTEGER NOT NULL DEFAULT 1,
    assigned_at     TEXT NOT NULL,
    released_at     TEXT,
    PRIMARY KEY (aspiration_id, department)
);
CREATE INDEX aspiration_departments_department ON aspiration_departments(department, active);

-- Service levels of an aspiration, in working days (dates are local dates in SAMBANG_TZ, inclusive).
CREATE TABLE aspiration_sla (
    aspiration_id        INTEGER PRIMARY KEY REFERENCES aspirations(id) ON DELETE CASCADE,
    audience             TEXT NOT NULL CHECK (audience IN ('departments', 'pimpinan', 'admin')),
    started_at           TEXT NOT NULL,           -- UTC ISO: submission, or the last redirect
    accept_due           TEXT NOT NULL,           -- last day to accept or redirect
    respond_due          TEXT NOT NULL,           -- last day to respond (reply, finish, refuse)
    accepted_at          TEXT,
    responded_at         TEXT,
    escalated_accept_at  TEXT,                    -- escalated to leadership once per assignment
    escalated_respond_at TEXT,
    confirm_due          TEXT                     -- after "Selesai": last day for the kepala desa to answer
);
CREATE INDEX aspiration_sla_accept ON aspiration_sla(accepted_at, accept_due);
CREATE INDEX aspiration_sla_respond ON aspiration_sla(responded_at, respond_due);

-- An answer the bot is waiting for: a reason (Tolak, Tidak dapat, Alihkan), a reply (Balas), or the kepala
-- desa's comment when a "Selesai" was not right. One per person and chat; works in private chats and groups.
CREATE TABLE pending_inputs (
    telegram_id     INTEGER NOT NULL,
    chat_id         INTEGER NOT NULL,
    kind            TEXT NOT NULL,
    aspiration_id   INTEGER NOT NULL REFERENCES aspirations(id) ON DELETE CASCADE,
    target          TEXT,                         -- department code for a redirect
    created_at      TEXT NOT NULL,
    PRIMARY KEY (telegram_id, chat_id)
);
