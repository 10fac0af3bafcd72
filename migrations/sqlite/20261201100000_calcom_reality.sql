-- The raw side of an attempt's outcome (request, status, a body excerpt),
-- shown under "technical details"; `detail` stays the sentence for people.
ALTER TABLE sync_events ADD COLUMN technical TEXT;

-- The cycle no longer fingerprints the account with `take=1&sortUpdatedAt=desc`
-- (NULL `updatedAt` rows sort first there and hide every change); it asks for
-- the changes since its watermark instead, which NULLs cannot fool.
ALTER TABLE calcom_sync_cursor DROP COLUMN fingerprint_total;
ALTER TABLE calcom_sync_cursor DROP COLUMN fingerprint_updated_at;
