-- durability.reintervention_cif: cumulative incidences are probabilities that never fall: each in [0, 1],
-- not below the previous day's value of its arm, and reintervention plus death at most 1.
WITH ordered AS (
    SELECT cumulative_incidence AS cif, death_cumulative_incidence AS death,
           lag(cumulative_incidence) OVER (PARTITION BY arm ORDER BY day) AS previous_cif,
           lag(death_cumulative_incidence) OVER (PARTITION BY arm ORDER BY day) AS previous_death
    FROM durability.reintervention_cif
)
SELECT count(*) FILTER (WHERE cif IS NULL OR death IS NULL OR cif < 0 OR death < 0 OR cif + death > 1 + 1e-12
                           OR cif < previous_cif OR death < previous_death) AS failures,
       count(*) AS checked
FROM ordered;
