-- The note an admin gave a bulk resolution ("resolve all matching"): its
-- run closes each appointment's open issues with it. NULL for other runs.
ALTER TABLE job_runs ADD COLUMN note TEXT;
