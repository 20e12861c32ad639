"""Scoring (latent search, score components) and calibration of the combined score."""
