# Fits with patients of weight 0 (SAP 6 v2: left out of every fit, as R does): R's fits on the rows of
# positive weight, the reference for our fits of all rows with those weights 0.
#
#   Rscript tests/reference/zero_weights.R      (from the repository root; survival, sandwich, jsonlite)
#
# Writes tests/reference/zero_weights.json, read by tests/test_comparison_zero_weights.py. sandwich's HC1 is
# taken on lm(..., subset = w > 0): on an lm fit that keeps zero weights, vcovHC mixes n with and without them.

suppressPackageStartupMessages({library(survival); library(sandwich); library(jsonlite)})
set.seed(20261207)
n <- 120
arm <- rep(0:1, n / 2)
x <- rnorm(n)
y <- 2 + 0.5 * arm + x + rnorm(n)
treated <- rbinom(n, 1, plogis(-0.3 + 0.8 * x))
time <- round(rexp(n, exp(-5 + 0.4 * arm)) + 1)
status <- rbinom(n, 1, 0.7)
w <- runif(n, 0.2, 2)
w[seq(5, n, by = 7)] <- 0
keep <- w > 0
d <- data.frame(y, arm, x, treated, time, status, w)[keep, ]

ols <- lm(y ~ arm, data = d, weights = w)
# Tight convergence: at the default epsilon (1e-8) R's vcov is taken at the previous iterate (SE off by 4e-5).
logit <- glm(treated ~ x, data = d, family = binomial, weights = w, control = glm.control(epsilon = 1e-14, maxit = 100))
cox <- coxph(Surv(time, status) ~ arm, data = d, weights = w, robust = TRUE, ties = "efron")
km <- survfit(Surv(time, status) ~ 1, data = d, weights = w, robust = TRUE, conf.type = "log-log")
km_at <- summary(km, times = c(50, 100, 200, 400), extend = TRUE)
out <- list(
  data = list(y = y, arm = arm, x = x, treated = treated, time = time, status = status, w = w),
  difference = list(estimate = unname(coef(ols)[2]), se_hc1 = sqrt(vcovHC(ols, type = "HC1")[2, 2]),
                    se_hc0 = sqrt(vcovHC(ols, type = "HC0")[2, 2])),
  logistic = list(coef = unname(coef(logit)), se = unname(sqrt(diag(vcov(logit))))),
  cox = list(coef = unname(coef(cox)), robust_se = unname(sqrt(diag(cox$var))),
             naive_se = unname(sqrt(diag(cox$naive.var)))),
  km = list(day = km_at$time, surv = km_at$surv, std_err = km_at$std.err, lower = km_at$lower,
            upper = km_at$upper),
  r_version = R.version.string, survival_version = as.character(packageVersion("survival")),
  sandwich_version = as.character(packageVersion("sandwich"))
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, na = "null", pretty = TRUE), "tests/reference/zero_weights.json")
