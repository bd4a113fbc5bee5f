-- Drops the latest ingest left for later because they were still being copied (status "waiting" in
-- data_quality.json): not drop versions, so not in report_drops.
SELECT drop_id, reason FROM ingest.waiting_drops ORDER BY drop_id
