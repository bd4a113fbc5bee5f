-- Key numbers of staging.follow_up for asset metadata: (name, value).
SELECT 'median_follow_up_days' AS name, coalesce(median(follow_up_end_day), 0) AS value FROM staging.follow_up
UNION ALL SELECT 'deaths', count(death_day) FROM staging.follow_up
UNION ALL SELECT 'withdrawn', count(withdrawn_day) FROM staging.follow_up;
