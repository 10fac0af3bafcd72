-- The appointments a bulk action by filter covers, fixed when the admin
-- confirms it (the count they were shown is re-checked in the same
-- transaction), and what its background run (job_runs.kind = 'bulk_retry')
-- did with each: NULL until reached, then 'queued', 'already_queued' or
-- 'gone'. Deleted with its run by the retention prune.
CREATE TABLE bulk_items (
    run_id          INTEGER NOT NULL REFERENCES job_runs(id) ON DELETE CASCADE,
    appointment_id  INTEGER NOT NULL,
    outcome         TEXT,
    PRIMARY KEY (run_id, appointment_id)
);
