"""Confounding-adjusted comparison of the arms (SAP section 6); see docs/comparison.md.

Pure modules: propensity (model, design), weights, balance, robust (sandwich differences), estimates,
bootstrap, evalue, subgroups, model (the three first in one call). analysis reads and writes the warehouse.
"""
