-- The drops still being copied, as this ingest run found them: the previous run's list is replaced.
DELETE FROM ingest.waiting_drops
