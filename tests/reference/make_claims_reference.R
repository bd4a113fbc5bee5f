# Reference values for the "faster recovery" claim (tests/test_report_claims.py), with R's survival package.
#
#   Rscript tests/reference/make_claims_reference.R      (from the repository root; r-base-core, r-cran-survival)
#
# Writes tests/reference/claims_return.csv (the data, generated here with a fixed seed) and
# tests/reference/claims_return.json. The tests read both and never need R.
#
# Data: 800 patients, one confounder x, treatment from a logistic model of x, overlap weights from the true
# score (1 - e treated, e comparator: non-integer weights), time to return to activity in whole days (many
# ties), treated patients returning sooner, uniform censoring.

suppressPackageStartupMessages(library(survival))
here <- "tests/reference"

set.seed(20261207)
n <- 800
x <- rnorm(n)
e <- plogis(-0.3 + 0.8 * x)
treated <- rbinom(n, 1, e)
w <- round(ifelse(treated == 1, 1 - e, e), 8)
return_day <- ceiling(rexp(n, rate = ifelse(treated == 1, 1 / 18, 1 / 30) * exp(-0.3 * x)))
censor_day <- ceiling(runif(n, 20, 200))
time <- pmin(return_day, censor_day)
event <- as.integer(return_day <= censor_day)
frame <- data.frame(time = time, event = event, treated = treated, weight = w)
write.csv(frame, file.path(here, "claims_return.csv"), row.names = FALSE)
frame <- read.csv(file.path(here, "claims_return.csv"))  # what the tests read, to the printed digits

fit <- coxph(Surv(time, event) ~ treated, data = frame, weights = weight, robust = TRUE, ties = "efron")
ci <- summary(fit)$conf.int
plain <- coxph(Surv(time, event) ~ treated, data = frame, ties = "efron")

median_of <- function(d) {
  unname(summary(survfit(Surv(time, event) ~ 1, data = d, weights = weight))$table["median"])
}
flat <- data.frame(time = c(10, 20, 30, 40), event = 1, weight = c(0.5, 1.5, 1, 1))

out <- list(
  call = "coxph(Surv(time, event) ~ treated, weights = weight, robust = TRUE, ties = 'efron')",
  hr = unname(exp(coef(fit))), robust_se = unname(sqrt(diag(fit$var))),
  hr_lower = unname(ci[1, "lower .95"]), hr_upper = unname(ci[1, "upper .95"]),
  hr_unweighted = unname(exp(coef(plain))), se_unweighted = unname(sqrt(diag(plain$var))),
  median_call = "summary(survfit(Surv(time, event) ~ 1, weights = weight))$table['median'] per arm",
  median_treated = median_of(frame[frame$treated == 1, ]),
  median_comparator = median_of(frame[frame$treated == 0, ]),
  flat_median = median_of(flat)
)
num <- function(v) sprintf("%.17g", v)
lines <- vapply(names(out), function(k) {
  v <- out[[k]]
  paste0("  \"", k, "\": ", if (is.character(v)) paste0("\"", gsub("\"", "'", v), "\"") else num(v))
}, character(1))
writeLines(c("{", paste(lines, collapse = ",\n"), "}"), file.path(here, "claims_return.json"))
