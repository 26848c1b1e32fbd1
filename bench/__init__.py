"""Benchmark scripts: each runs a piece of the portal against a raw baseline and prints figures and ratios."""
