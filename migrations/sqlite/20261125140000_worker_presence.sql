-- Each calsync process's liveness, beaten on its own timer (not with run
-- progress, which a slow Cal.com can hold up), so that an instance can tell
-- a dead worker from a slow one and take back its runs and claims at once.
CREATE TABLE worker_presence (
    worker_id     TEXT PRIMARY KEY,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL
);
