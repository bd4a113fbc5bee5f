# R's KM confidence interval before the first event (the audit item of issue 15): summary(fit, times) at a
# day before the curve's first time reports S = 1 with CI [1, 1]; at a day after censorings but before the
# first event S is still 1 and the log(-log) CI is NA (undefined at S = 1); after the last event S = 0, CI NA.
#
#   Rscript tests/reference/km_before_first_event.R      (from the repository root; survival and jsonlite)
#
# Writes tests/reference/km_before_first_event.json, read by tests/test_survival_km.py.

suppressPackageStartupMessages({library(survival); library(jsonlite)})
time <- c(2, 3, 5, 5, 7, 8, 10, 12)
status <- c(0, 0, 1, 0, 1, 1, 0, 1)
weight <- c(1, 0.5, 2, 1, 1.5, 0.7, 1, 2)
days <- c(1, 2.5, 5, 12)
at <- function(fit) {
  s <- summary(fit, times = days, extend = TRUE)
  list(day = s$time, surv = s$surv, lower = s$lower, upper = s$upper, std_err = s$std.err)
}
out <- list(
  time = time, status = status, weight = weight,
  unweighted = at(survfit(Surv(time, status) ~ 1, conf.type = "log-log")),
  weighted = at(survfit(Surv(time, status) ~ 1, weights = weight, robust = TRUE, conf.type = "log-log")),
  r_version = R.version.string, survival_version = as.character(packageVersion("survival"))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE),
           "tests/reference/km_before_first_event.json")
