-- Indexes found by the benchmarks on a province-sized database (100,000 aspirations, Jawa Timur).

-- /status for leadership and admins lists the newest aspirations of the whole area, and officials the newest of
-- their department: ORDER BY created_at DESC, id DESC LIMIT n walks this index from its end instead of sorting
-- every aspiration (at 100,000 aspirations: leadership p95 337 -> 0.4 ms,
-- officials 81 -> 0.5 ms).
CREATE INDEX aspirations_created ON aspirations(created_at);
