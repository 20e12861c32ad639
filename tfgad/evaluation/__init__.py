"""Metrics, plots and the report."""
