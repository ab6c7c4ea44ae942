-- Access can be taken away and handed over: where an admin role came from, when a person was deactivated, and
-- successors of a registered kepala desa waiting for an admin's confirmation.

-- 1 while the admin role was given by SAMBANG_ADMINS at start; cleared when an admin changes the role.
ALTER TABLE people ADD COLUMN admin_from_env INTEGER NOT NULL DEFAULT 0;
-- The role the person had before SAMBANG_ADMINS made them admin (NULL: the account was created as admin).
ALTER TABLE people ADD COLUMN role_before_env TEXT;
-- Set when an admin (or the removal from SAMBANG_ADMINS) deactivated the person; NULL while active.
ALTER TABLE people ADD COLUMN deactivated_at TEXT;
-- A new head for a desa whose kepala desa is registered: the person they succeed. While the successor waits for an
-- admin's confirmation the row has active = 0 and deactivated_at NULL.
ALTER TABLE people ADD COLUMN successor_of INTEGER REFERENCES people(id);
CREATE INDEX people_successor ON people(successor_of) WHERE successor_of IS NOT NULL;

-- Admins of an existing database came from SAMBANG_ADMINS unless they redeemed an admin invitation.
UPDATE people SET admin_from_env = 1 WHERE role = 'admin' AND telegram_id IS NOT NULL
    AND telegram_id NOT IN (SELECT used_by FROM invitations WHERE role = 'admin' AND used_by IS NOT NULL);
