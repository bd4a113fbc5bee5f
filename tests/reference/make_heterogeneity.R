# Reference values for tests/test_comparison_heterogeneity.py, computed with R's metafor package.
#
#   Rscript tests/reference/make_heterogeneity.R      (from the repository root; needs r-cran-metafor and
#                                                      r-cran-jsonlite, both Debian packages)
#
# Writes tests/reference/heterogeneity.json: for each data set its inputs (yi, vi) and what
# rma(yi, vi, method = "REML", test = "knha") and predict() report, once with metafor's default control
# (threshold 1e-5 on the change of tau^2) and once iterated to threshold 1e-10 (the pipeline's default).
# The tests compare against the JSON and never need R.

suppressPackageStartupMessages({
  library(metafor)
  library(jsonlite)
})

here <- "tests/reference"

fit_values <- function(yi, vi, control = list()) {
  fit <- rma(yi, vi, method = "REML", test = "knha", control = control)
  p <- predict(fit)
  list(
    estimate = as.numeric(fit$b), se = fit$se, ci_lower = fit$ci.lb, ci_upper = fit$ci.ub,
    tau2 = fit$tau2, i2_percent = fit$I2, vt = fit$vt, s2w = fit$s2w, df = fit$ddf,
    pi_lower = p$pi.lb, pi_upper = p$pi.ub
  )
}

case <- function(name, yi, vi, note) {
  list(
    name = name, note = note, yi = as.numeric(yi), vi = as.numeric(vi),
    call = "rma(yi, vi, method = 'REML', test = 'knha'); predict(fit)",
    default = fit_values(yi, vi),
    tight = fit_values(yi, vi, list(threshold = 1e-10, maxiter = 1000))
  )
}

bcg <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
# Normand (1999) is metafor's other textbook example with moderate heterogeneity (mean differences).
normand <- escalc(measure = "MD", m1i = m1i, sd1i = sd1i, n1i = n1i, m2i = m2i, sd2i = sd2i, n2i = n2i,
                  data = dat.normand1999)

cases <- list(
  case("bcg", bcg$yi, bcg$vi, "dat.bcg log risk ratios (escalc RR), 13 trials; metafor's textbook example"),
  case("normand1999", normand$yi, normand$vi, "dat.normand1999 mean differences (escalc MD), 9 trials"),
  case("boundary", c(0.10, 0.12, 0.09, 0.11, 0.10), c(0.04, 0.05, 0.03, 0.06, 0.04),
       "homogeneous estimates: REML tau^2 = 0 at the boundary"),
  case("two_sites", c(-0.5, 0.3), c(0.04, 0.09), "two studies: t with 1 df"),
  case("large", c(-2.0, 0.5, 3.0, -1.0, 4.0, 1.5), c(0.10, 0.20, 0.15, 0.05, 0.30, 0.12),
       "large heterogeneity: I^2 near 100%"),
  case("sites_like", c(-3.2, -1.1, -5.0, 0.4, -2.2), c(2.1, 1.5, 3.0, 1.8, 2.5),
       "five site ODI change differences of plausible size"),
  # The five site estimates (ODI change difference at M12) and their squared HC1 SEs that the pipeline
  # computes on the committed sample (sample_data/landing), as stored in comparison.site_estimates.
  case("committed_sample",
       c(3.763643830487002, 0.42599621748968985, -1.5604970876848014, 5.648559778491096, 4.882084965580177),
       c(2.838628709058399, 3.7481862056147968, 4.989289424742949, 5.944619217145165, 7.977342756519527),
       "the committed sample's five site estimates (pipeline output, pooled here by metafor)"),
  case("identical", c(1.0, 1.0, 1.0), c(0.5, 0.2, 0.3), "identical estimates: s^2 = 0, CI of zero width")
)

writeLines(toJSON(list(metafor = as.character(packageVersion("metafor")), r = R.version.string, cases = cases),
                  auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(here, "heterogeneity.json"))
