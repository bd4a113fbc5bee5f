# Reference values for tests/test_survival_*.py, computed with R's survival package.
#
#   Rscript tests/reference/make_reference.R        (from the repository root; needs only r-base-core and
#                                                     r-cran-survival; reads the CSVs of make_data.py)
#
# Writes tests/reference/<data set>.json. The tests compare against these files and never need R.
# Every number below comes from a documented survival-package call; the only hand computation is the
# Xie & Liu (2005) weighted-KM variance, which survival does not offer (written out here independently of
# the Python code, from the formula in the paper).

suppressPackageStartupMessages(library(survival))

here <- "tests/reference"
days <- c(365, 730, 1095, 1461, 1826)

# The minimal JSON writer (keeps the scripts free of packages beyond survival): json_value, arr, write_json.
source(file.path(here, "json_writer.R"))

# --- right-censored data: KM (log-log), at-risk tables, RMST, median, log-rank, Cox, cox.zph ------------
km_group <- function(time, status, times, tau) {
  fit <- survfit(Surv(time, status) ~ 1, conf.type = "log-log")
  s <- summary(fit, censored = TRUE)
  at <- summary(fit, times = times, extend = TRUE)
  tab <- summary(fit, rmean = tau)$table
  list(
    call = "survfit(Surv(time, status) ~ 1, conf.type = 'log-log')",
    curve = list(time = arr(s$time), n_risk = arr(s$n.risk), n_event = arr(s$n.event),
                 n_censor = arr(s$n.censor), surv = arr(s$surv), std_err = arr(s$std.err),
                 lower = arr(s$lower), upper = arr(s$upper)),
    at = list(time = arr(at$time), surv = arr(at$surv), std_err = arr(at$std.err), lower = arr(at$lower),
              upper = arr(at$upper), n_risk = arr(at$n.risk), n_event = arr(at$n.event),
              n_censor = arr(at$n.censor)),
    rmean = list(call = "summary(fit, rmean = tau)$table", tau = tau, rmean = unname(tab["rmean"]),
                 se = unname(tab["se(rmean)"])),
    median = list(median = unname(tab["median"]), lower = unname(tab["0.95LCL"]),
                  upper = unname(tab["0.95UCL"]))
  )
}

cox_block <- function(formula, df) {
  # x and y are kept so that cox.zph need not re-evaluate the data in the formula's environment.
  fit <- coxph(formula, data = df, ties = "efron", x = TRUE, y = TRUE)
  sm <- summary(fit)
  zph <- cox.zph(fit, transform = "km", terms = FALSE)
  list(
    call = paste("coxph(", deparse(formula), ", ties = 'efron'); cox.zph(fit, transform = 'km')"),
    coef = arr(coef(fit)), se = arr(sqrt(diag(vcov(fit)))), hr = arr(sm$conf.int[, 1]),
    lower = arr(sm$conf.int[, 3]), upper = arr(sm$conf.int[, 4]), p = arr(sm$coefficients[, 5]),
    loglik = arr(fit$loglik),
    zph_chisq = arr(zph$table[, "chisq"]), zph_df = arr(zph$table[, "df"]), zph_p = arr(zph$table[, "p"])
  )
}

right_censored <- function(name, time, status, group, times, tau, extra = list()) {
  groups <- sort(unique(group))
  per <- lapply(groups, function(g) km_group(time[group == g], status[group == g], times, tau))
  names(per) <- as.character(groups)
  sd <- survdiff(Surv(time, status) ~ group)
  x <- as.numeric(group == groups[2])
  out <- list(
    groups = arr(as.character(groups)), times = arr(times),
    km = per,
    logrank = list(call = "survdiff(Surv(time, status) ~ group)", chisq = sd$chisq,
                   p = pchisq(sd$chisq, length(sd$n) - 1, lower.tail = FALSE)),
    cox = cox_block(Surv(time, status) ~ x, data.frame(time = time, status = status, x = x))
  )
  write_json(c(out, extra), name)
}

rossi <- read.csv(file.path(here, "rossi.csv"))
right_censored("rossi", rossi$week, rossi$arrest, rossi$fin, times = c(10, 20, 30, 40, 52), tau = 40,
               extra = list(cox_multi = cox_block(Surv(week, arrest) ~ fin + age + prio, rossi)))

waltons <- read.csv(file.path(here, "waltons.csv"))
right_censored("waltons", waltons$T, waltons$E, waltons$group, times = c(10, 30, 50, 60, 75), tau = 60)

lung <- read.csv(file.path(here, "lung.csv"))
right_censored("lung", lung$time, lung$status, lung$sex, times = c(90, 180, 365, 730), tau = 730)

# --- generated: ties, competing risks (Aalen-Johansen), weights ------------------------------------------
gen <- read.csv(file.path(here, "generated_competing.csv"))
aj <- lapply(c(0, 1), function(a) {
  d <- gen[gen$arm == a, ]
  ms <- factor(d$status, levels = 0:2, labels = c("censor", "reint", "death"))
  fit <- survfit(Surv(time, ms) ~ 1, data = d)
  at <- summary(fit, times = days, extend = TRUE)
  list(call = "survfit(Surv(time, factor(status, 0:2)) ~ 1)",
       time = arr(fit$time), n_risk = arr(fit$n.risk[, 1]),
       cif_reint = arr(fit$pstate[, 2]), cif_death = arr(fit$pstate[, 3]),
       se_reint = arr(fit$std.err[, 2]), se_death = arr(fit$std.err[, 3]),
       at_time = arr(at$time), at_cif_reint = arr(at$pstate[, 2]), at_cif_death = arr(at$pstate[, 3]))
})
names(aj) <- c("0", "1")

xie_liu <- function(time, status, w) {
  # Xie & Liu (2005): Var S(t) = S(t)^2 sum_{t_j <= t} d_j / (M_j (Y_j - d_j)), with weighted deaths d_j,
  # weighted risk set Y_j and M_j = Y_j^2 / sum of squared weights at risk.
  tj <- sort(unique(time))
  d <- sapply(tj, function(t) sum(w[time == t & status == 1]))
  y <- sapply(tj, function(t) sum(w[time >= t]))
  y2 <- sapply(tj, function(t) sum(w[time >= t]^2))
  m <- y^2 / y2
  s <- cumprod(1 - d / y)
  term <- ifelse(d > 0, d / (m * (y - d)), 0)
  list(time = arr(tj), surv = arr(s), std_err = arr(s * sqrt(cumsum(term))))
}

weighted <- lapply(c(0, 1), function(a) {
  d <- gen[gen$arm == a, ]
  fit <- survfit(Surv(time, status == 1) ~ 1, data = d, weights = weight, conf.type = "log-log")
  s <- summary(fit, censored = TRUE)
  list(robust = list(call = "survfit(Surv(time, status == 1) ~ 1, weights = weight, conf.type = 'log-log')",
                     time = arr(s$time), surv = arr(s$surv), std_err = arr(s$std.err),
                     lower = arr(s$lower), upper = arr(s$upper)),
       xie_liu = xie_liu(d$time, as.numeric(d$status == 1), d$weight))
})
names(weighted) <- c("0", "1")

right_censored("generated", gen$time, as.numeric(gen$status == 1), gen$arm, times = days, tau = 1826,
               extra = list(aj = aj, weighted = weighted))

# --- Cox with case weights, some of them 0 --------------------------------------------------------------
# R refuses a weight of 0 (coxph: "Invalid weights, must be >0"), so the R fit of data with zero weights is the
# fit without those rows: every 4th row of the generated set gets weight 0 in the test and is left out here.
# "weighted": the generated non-integer weights; "unit": weight 1 (the 0/1-weighted fit).
kept <- gen[seq_len(nrow(gen)) %% 4 != 0, ]
cox_weighted <- function(w) {
  d <- data.frame(time = kept$time, status = as.numeric(kept$status == 1), x = kept$arm, w = w)
  fit <- coxph(Surv(time, status) ~ x, data = d, weights = w, ties = "efron", robust = FALSE,
               x = TRUE, y = TRUE)
  zph <- cox.zph(fit, transform = "km", terms = FALSE)
  list(call = "coxph(Surv(time, status) ~ x, weights = w, ties = 'efron', robust = FALSE) on rows 4k+1..4k+3",
       coef = arr(coef(fit)), se = arr(sqrt(diag(fit$var))), loglik = arr(fit$loglik), n = fit$n,
       nevent = fit$nevent, zph_chisq = arr(zph$table[, "chisq"]), zph_p = arr(zph$table[, "p"]))
}
write_json(list(dropped = "every 4th row (1-based row number divisible by 4)",
                weighted = cox_weighted(kept$weight), unit = cox_weighted(rep(1, nrow(kept)))),
           "cox_zero_weights")

# --- interval-censored: Turnbull NPMLE -------------------------------------------------------------------
# survfit stops its EM when the curve moves less than 5e-5 between iterations, which can leave it ~1e-3 short
# of the NPMLE on some data. "tight" is survival's own survfitTurnbull with only that tolerance set to 1e-10,
# so the tests can check convergence to the same maximum as well as agreement with the printed survfit.
tight_turnbull <- local({
  src <- deparse(survival:::survfitTurnbull)
  stopifnot(sum(grepl("eps > 5e-05", src, fixed = TRUE)) == 1)
  f <- eval(parse(text = gsub("eps > 5e-05", "eps > 1e-10", src, fixed = TRUE)))
  environment(f) <- asNamespace("survival")
  f
})
turnbull <- function(left, right, times) {
  y <- Surv(left, right, type = "interval2")
  fit <- survfit(y ~ 1)
  at <- summary(fit, times = times, extend = TRUE)
  tfit <- tight_turnbull(factor(rep(1, nrow(y))), y, rep(1, nrow(y)))
  list(call = "survfit(Surv(left, right, type = 'interval2') ~ 1)",
       time = arr(fit$time), surv = arr(fit$surv), at_time = arr(at$time), at_surv = arr(at$surv),
       tight = list(call = "survival:::survfitTurnbull with EM tolerance 1e-10",
                    time = arr(tfit$time), surv = arr(tfit$surv)))
}
diabetes <- read.csv(file.path(here, "diabetes.csv"))
write_json(list(all = turnbull(diabetes$left, diabetes$right, c(5, 10, 15, 20, 25, 30, 40)),
                male = with(diabetes[diabetes$gender == "male", ], turnbull(left, right, c(10, 20, 30)))),
           "diabetes")
gi <- read.csv(file.path(here, "generated_interval.csv"))
write_json(list(all = turnbull(gi$left, gi$right, c(91, 182, 365, 730, 1095, 1461, 1826))),
           "generated_interval")

writeLines(paste("survival", as.character(packageVersion("survival")), R.version.string),
           file.path(here, "VERSIONS.txt"))
