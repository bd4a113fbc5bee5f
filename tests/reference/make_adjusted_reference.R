# Reference values for the adjusted (weighted) reintervention analysis of SAP 6 version 2, computed with R's
# survival package: tests/test_survival_adjusted.py reads tests/reference/adjusted.json and never needs R.
#
#   Rscript tests/reference/make_adjusted_reference.R     (from the repository root; reads generated_competing.csv)
#
# - RMST to tau of the weighted KM curve and its infinitesimal-jackknife (IJ) SE, weights fixed:
#   survfit(Surv(time, status) ~ 1, weights = w, robust = TRUE, influence = TRUE)$influence.surv (one row per
#   patient, one column per curve time; R already multiplies by the weight: sqrt(colSums(I^2)) is summary()'s
#   std.err) integrated over the curve's steps to tau; SE = sqrt(sum(influence^2)). The "print_se" R prints
#   for rmean = tau is the unweighted (Greenwood-type) formula on weighted counts, kept to show it differs.
# - Cumulative incidence of reintervention (death competing) from the weighted multi-state survfit with id:
#   its influence.pstate is per unit weight in survival 3.5.3, so w * influence.pstate is the IJ influence
#   (and sqrt(colSums((w * P)^2)) equals its std.err, checked below); CI with conf.type = "log-log".
# - cox.zph of the weighted Cox fit (robust = TRUE; the test does not use the robust variance: it is a score
#   test on the model information with the weights, and an unweighted KM time transform).

suppressPackageStartupMessages(library(survival))

here <- "tests/reference"
source(file.path(here, "json_writer.R"))
days <- c(365, 730, 1095, 1461, 1826)

rmst_ij <- function(time, status, w, tau) {
  fit <- survfit(Surv(time, status == 1) ~ 1, weights = w, robust = TRUE, influence = TRUE)
  keep <- fit$time <= tau
  widths <- diff(c(fit$time[keep], tau))  # the curve's steps from each time to the next (or tau)
  infl <- as.vector(fit$influence.surv[, keep, drop = FALSE] %*% widths)
  stopifnot(isTRUE(all.equal(sqrt(colSums(fit$influence.surv^2)), summary(fit, censored = TRUE)$std.err)))
  tab <- summary(fit, rmean = tau)$table
  list(call = "survfit(Surv(time, status == 1) ~ 1, weights = w, robust = TRUE, influence = TRUE)",
       tau = tau, rmst = unname(tab["rmean"]), influence = arr(infl), se = sqrt(sum(infl^2)),
       print_se = unname(tab["se(rmean)"]))
}

cif_ij <- function(time, status, w, at_days) {
  id <- seq_along(time)
  ms <- survfit(Surv(time, factor(status, 0:2)) ~ 1, weights = w, id = id, influence = TRUE,
                conf.type = "log-log")
  # summary() of a multi-state fit also computes its mean-time-in-state table, which warns (x * delta, a
  # recycling in survival 3.5.3's own code); pstate and std.err at the days are not affected (checked below).
  at <- suppressWarnings(summary(ms, times = at_days, extend = TRUE))
  col <- findInterval(at_days, ms$time) + 1  # influence.pstate has a first column for the starting time
  infl <- w * matrix(ms$influence.pstate[, col, 2], ncol = length(col))
  stopifnot(isTRUE(all.equal(sqrt(colSums(infl^2)), unname(at$std.err[, 2]))))
  list(call = "survfit(Surv(time, factor(status, 0:2)) ~ 1, weights = w, id = id, influence = TRUE, conf.type = 'log-log')",
       days = arr(at_days), cumulative_incidence = arr(at$pstate[, 2]), se = arr(at$std.err[, 2]),
       lower = arr(at$lower[, 2]), upper = arr(at$upper[, 2]),
       influence_by_day = arr(infl))  # column-major: all patients of the first day, then the next day
}

arm_block <- function(d, tau, at_days) {
  list(rmst = rmst_ij(d$time, d$status, d$weight, tau), cif = cif_ij(d$time, d$status, d$weight, at_days))
}

gen <- read.csv(file.path(here, "generated_competing.csv"))
arms <- lapply(c(0, 1), function(a) arm_block(gen[gen$arm == a, ], 1826, days))
names(arms) <- c("0", "1")
# The difference treatment (arm 1) - comparator (arm 0): independent arms, variances add.
difference <- list(estimate = arms[["1"]]$rmst$rmst - arms[["0"]]$rmst$rmst,
                   se = sqrt(arms[["1"]]$rmst$se^2 + arms[["0"]]$rmst$se^2))

fit_w <- coxph(Surv(time, status == 1) ~ arm, data = gen, weights = weight, robust = TRUE, ties = "efron",
               x = TRUE, y = TRUE)
zph_w <- cox.zph(fit_w, transform = "km", terms = FALSE)
fit_n <- coxph(Surv(time, status == 1) ~ arm, data = gen, weights = weight, robust = FALSE, ties = "efron",
               x = TRUE, y = TRUE)
zph_n <- cox.zph(fit_n, transform = "km", terms = FALSE)
stopifnot(isTRUE(all.equal(zph_w$table, zph_n$table)))  # robust = TRUE does not change the test
# The test reads the weights as case counts: doubling every weight doubles the chi-square.
gen$weight2 <- 2 * gen$weight
zph_2 <- cox.zph(coxph(Surv(time, status == 1) ~ arm, data = gen, weights = weight2, ties = "efron",
                       x = TRUE, y = TRUE), transform = "km", terms = FALSE)

# A small edge case written here: ties of both causes, a censoring at day 0, the curve reaching 0 at the last
# time (everybody left has the event), tau after the last time and tau between times.
edge <- data.frame(time = c(0, 2, 2, 3, 3, 3, 5, 6, 6, 8),
                   status = c(0, 1, 2, 1, 0, 2, 1, 2, 1, 1),
                   weight = c(0.7, 1.3, 0.4, 1.1, 0.9, 1.6, 0.5, 1.2, 0.8, 1.4))
edge_block <- list(data = list(time = arr(edge$time), status = arr(edge$status), weight = arr(edge$weight)),
                   tau_10 = arm_block(edge, 10, c(1, 3, 7, 8, 12)),
                   tau_4 = list(rmst = rmst_ij(edge$time, edge$status, edge$weight, 4)))

write_json(list(generated = arms, difference = difference,
                zph = list(call = "cox.zph(coxph(Surv(time, status == 1) ~ arm, weights = weight, robust = TRUE), transform = 'km')",
                           chisq = unname(zph_w$table[1, "chisq"]), p = unname(zph_w$table[1, "p"]),
                           chisq_double_weights = unname(zph_2$table[1, "chisq"]),
                           coef = unname(coef(fit_w)), robust_se = unname(sqrt(fit_w$var[1, 1]))),
                edge = edge_block), "adjusted")
