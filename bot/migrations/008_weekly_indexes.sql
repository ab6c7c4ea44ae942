-- Indexes for the Monday leadership digest (bot/digests.py), found on the benchmark's province-sized database
-- (100,000 aspirations, 435,021 history entries) with EXPLAIN QUERY PLAN.

-- "Hasil penanganan minggu ini": aspirations closed during the week, counted per status. Without an index the query
-- read every aspiration (SCAN aspirations); with closed_at first it reads the week's range only, and status makes
-- it covering (100,000 aspirations: 43 -> 0.1 ms).
CREATE INDEX aspirations_closed ON aspirations(closed_at, status);

-- The same section counts the automatic closings of the week from the history (action = 'ditutup otomatis ...'
-- between two times): SCAN aspiration_history before, a covering range search now (435,021 entries: 17 -> 0.0 ms).
CREATE INDEX aspiration_history_action ON aspiration_history(action, at);
