"""Shared defaults for every tfgad experiment; other configs import and override this.

Every field is declared once, with its meaning and the values it takes, by its section in
tfgad/sections/ (`python -m tfgad.main --config=default --print_config=all` lists them).

Run: python -m tfgad.main --config=configs/default.py
"""
import ml_collections

from tfgad import sections

# The model families' configs (configs/<family>.py) combine their score components with an
# RBF-SVM fit on validation: on MIT-BIH it puts every family above IsolationForest, where each
# family's single paper score (detection.weights) leaves five of eight below it (BENCHMARKS.md
# section 2). It needs labelled anomalies in validation; for one-class validation use
# --config.detection.combiner=weighted --config.detection.threshold=percentile.
FAMILY_COMBINER = "svm"


def get_config() -> ml_collections.ConfigDict:
    return sections.default_config()
