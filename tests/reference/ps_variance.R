# The sandwich variance of a propensity-weighted difference that accounts for the estimation of the propensity
# model (docs/comparison.md, pipeline/comparison/ps_variance.py): the stacked M-estimator of
#   (logistic score equations, weighted mean equation of each arm)
# written out by hand, its derivative matrix by numDeriv::jacobian (Richardson extrapolation), and the sandwich
# A^-1 B A^-T with B = sum of the outer products of the estimating functions. R's PSweight (which implements the
# same for overlap / ATE / ATT) is not installable on this machine (no CRAN mirror reachable, no Debian package).
#
#   Rscript tests/reference/ps_variance.R      (from the repository root; numDeriv, jsonlite)
#
# Writes tests/reference/ps_variance.json (data, fits and variances), read by tests/test_comparison_ps_variance.py.
# Schemes: overlap; ate (stabilised, winsorised at the 1st/99th percentiles of the weights, quantile type 7 =
# numpy's default; the bounds and which patients are at them are FIXED, as in the pipeline); att.
# Outcomes: a continuous one observed for ~80% of patients (row factor 1) and a 0/1 one observed for ~70% with a
# fixed row factor in [0.8, 1.6] (as the MAR twin's attendance weights).

suppressPackageStartupMessages({library(numDeriv); library(jsonlite)})
set.seed(20261207)
n <- 400
x1 <- rnorm(n)
x2 <- rbinom(n, 1, 0.4)
x3 <- round(rnorm(n, 50, 10), 1)
site <- rbinom(n, 1, 0.3)
X <- cbind(1, x1, x2, x3, site)
p <- ncol(X)
treated <- rbinom(n, 1, plogis(-1 + 0.8 * x1 - 0.5 * x2 + 0.03 * (x3 - 50) + 0.6 * site))
y_change <- round(10 - 2 * treated + 3 * x1 + 0.1 * x3 + 1.5 * site + rnorm(n, 0, 4), 1)
observed_change <- runif(n) < 0.8
y_responder <- rbinom(n, 1, plogis(-0.5 + 0.4 * treated + 0.7 * x1))
observed_responder <- runif(n) < 0.7
factor_responder <- round(runif(n, 0.8, 1.6), 3)

fit <- glm(treated ~ X - 1, family = binomial, control = glm.control(epsilon = 1e-14, maxit = 100))
beta_hat <- unname(coef(fit))
share <- mean(treated)

raw_weights <- function(beta, scheme) {
  e <- plogis(drop(X %*% beta))
  switch(scheme,
         overlap = ifelse(treated == 1, 1 - e, e),
         ate = ifelse(treated == 1, share / e, (1 - share) / (1 - e)),
         att = ifelse(treated == 1, 1, e / (1 - e)))
}
# Truncation with fixed bounds: the patients at a bound keep the bound whatever beta.
raw_hat <- raw_weights(beta_hat, "ate")
bounds <- unname(quantile(raw_hat, c(0.01, 0.99), type = 7))
at_low <- raw_hat < bounds[1]
at_high <- raw_hat > bounds[2]
weights_of <- function(beta, scheme) {
  w <- raw_weights(beta, scheme)
  if (scheme == "ate") w <- ifelse(at_low, bounds[1], ifelse(at_high, bounds[2], w))
  w
}

psi <- function(theta, scheme, y, observed, f) {
  beta <- theta[1:p]
  e <- plogis(drop(X %*% beta))
  w <- weights_of(beta, scheme) * f
  yy <- ifelse(observed, y, 0)
  cbind(X * (treated - e), observed * treated * w * (yy - theta[p + 1]),
        observed * (1 - treated) * w * (yy - theta[p + 2]))
}

one <- function(scheme, y, observed, f) {
  w <- weights_of(beta_hat, scheme) * f
  arm1 <- observed & treated == 1
  arm0 <- observed & treated == 0
  mu1 <- sum(w[arm1] * y[arm1]) / sum(w[arm1])
  mu0 <- sum(w[arm0] * y[arm0]) / sum(w[arm0])
  theta <- c(beta_hat, mu1, mu0)
  A <- jacobian(function(th) colSums(psi(th, scheme, y, observed, f)), theta)
  psi_hat <- psi(theta, scheme, y, observed, f)
  B <- crossprod(psi_hat)
  Ainv <- solve(A)
  V <- Ainv %*% B %*% t(Ainv)
  contrast <- c(rep(0, p), 1, -1)
  hc0 <- sum(w[arm1]^2 * (y[arm1] - mu1)^2) / sum(w[arm1])^2 +
    sum(w[arm0]^2 * (y[arm0] - mu0)^2) / sum(w[arm0])^2
  list(estimate = mu1 - mu0, mean_treatment = mu1, mean_comparator = mu0,
       variance = drop(t(contrast) %*% V %*% contrast), variance_weights_fixed = hc0)
}

results <- list()
for (scheme in c("overlap", "ate", "att")) {
  results[[scheme]] <- list(
    change = one(scheme, y_change, observed_change, rep(1, n)),
    responder = one(scheme, y_responder, observed_responder, factor_responder))
}

out <- list(
  data = list(x1 = x1, x2 = x2, x3 = x3, site = site, treated = treated, y_change = y_change,
              observed_change = observed_change, y_responder = y_responder,
              observed_responder = observed_responder, factor_responder = factor_responder),
  coef = beta_hat, ate_bounds = bounds, results = results,
  r_version = R.version.string, numderiv_version = as.character(packageVersion("numDeriv")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), "tests/reference/ps_variance.json")
