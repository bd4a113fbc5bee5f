-- Erasures audited up to a time (parameter: the time; NULL counts none): must equal the recorded count.
SELECT count(*) FILTER (WHERE erased_at <= $erased_until::TIMESTAMP) FROM ingest.erasures;
