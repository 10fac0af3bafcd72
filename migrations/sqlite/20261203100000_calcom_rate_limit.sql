-- The calls per minute the organization's Cal.com key may make, as
-- Cal.com's own X-RateLimit-Limit headers state it (keys with a custom
-- limit differ from the default 120), for the dashboard's API budget.
-- NULL until an answer has stated it; cleared when the URL or key changes.
ALTER TABLE organizations ADD COLUMN calcom_rate_limit INTEGER;
