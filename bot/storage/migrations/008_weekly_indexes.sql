-- Indexes for the Monday leadership digest (bot/digests.py), found on the benchmark's province-sized database
-- (100,000 aspirations, 435,021 history entries) with EXPLAIN QUERY PLAN.

-- "Hasil penanganan minggu ini": aspirations closed during the week, counted per status. Without an index the query
-- read every aspiration (SCAN aspirations); with closed_at first it reads the week's range only, and status makes
-- it covering (100,000 aspirations: 43 -> 0.1 ms).
CREATE INDEX aspirations_closed ON aspirations(closed_at, status);

-- The same section counts the week's automatic closings in the history (SCAN aspiration_history before: 17 ms).
-- Partial, so that it holds those entries only: a full index on (action, at) grew the benchmark's database by
-- 21 MB for this one count. The label is bot.officials.HISTORY_LABELS["tutup_otomatis"]; the digest passes it as
-- a bound parameter, which SQLite matches against this WHERE clause (tests/test_digests.py checks the plan, so a
-- changed label fails there instead of silently scanning again).
CREATE INDEX aspiration_history_auto_closed ON aspiration_history(at)
    WHERE action = 'ditutup otomatis (desa tidak menjawab)';
