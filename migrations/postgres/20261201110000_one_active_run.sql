-- At most one queued or running run per organization and kind, whoever
-- started it (schedule, UI, CLI, API): a second request is told which run is
-- already under way instead of listing Cal.com a second time. Runs that would
-- break the rule (from before it) are closed first, the newest kept.
UPDATE job_runs SET status = 'interrupted', error_detail = 'superseded: only one run of a kind may be active'
WHERE status IN ('queued', 'running')
  AND id NOT IN (SELECT MAX(id) FROM job_runs WHERE status IN ('queued', 'running') GROUP BY org_id, kind);
CREATE UNIQUE INDEX job_runs_one_active ON job_runs (org_id, kind) WHERE status IN ('queued', 'running');
