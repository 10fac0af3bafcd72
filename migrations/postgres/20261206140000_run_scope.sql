-- What a bulk run covers, in words ("state Failed, search "Klein""), so
-- its page says which filter it ran on long after the list has changed.
-- NULL for verification runs, which cover the organization's window.
ALTER TABLE job_runs ADD COLUMN scope TEXT;
