-- The worker's recovery of a dead instance's claims runs every tick and
-- looks only at claimed appointments; without this it read the whole table
-- each time. Claims are cleared when their outcome is written, so the
-- index holds only the appointments being verified right now.
CREATE INDEX appointments_claimed ON appointments (claimed_by) WHERE claimed_by IS NOT NULL;
