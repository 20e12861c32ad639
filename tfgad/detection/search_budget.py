"""The latent search's step budget chosen on validation (search.budgets).

How many steps a search should take depends on the data and the generator, not only on time:
on the synthetic ECG 25-50 steps from the amortized start rank anomalies best, on MIT-BIH a
3-epoch GAN reconstructs anomalous beats better the longer it searches, and I(x) alone (0
steps) ranks them best (BENCHMARKS.md, time to quality). With search.budgets="0,25,50" the
calibration scores the validation samples at each budget and keeps the n_max whose residual
ranks validation's labelled anomalies best (AUROC; the smaller budget on a tie): a choice
made on validation only, never on test. Without labelled anomalies in validation there is
nothing to rank, and search.n_max stays.
"""
import dataclasses
from typing import Any

import ml_collections
import numpy as np
from absl import logging
from sklearn.metrics import roc_auc_score

from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError

CRITERION = "residual"
CALIBRATION_KEY = "search_budget"  # what the calibration records of the choice


def candidates(config: ml_collections.ConfigDict) -> list:
    """The budgets of search.budgets ("0,25,50"), sorted; [] when unset."""
    text = config.search.budgets.strip()
    if not text:
        return []
    try:
        budgets = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise UserError(f"search.budgets={text!r} must be comma-separated step counts, "
                        "e.g. 0,25,50") from None
    if not budgets or budgets[0] < 0:
        raise UserError(f"search.budgets={text!r} must be step counts >= 0, e.g. 0,25,50")
    return budgets


def searches(scorer) -> bool:
    """Whether the scorer (or an ensemble's members) scores by latent search."""
    settings = scorer.settings()
    while settings["scorer"] == "ensemble":
        settings = settings["member"]
    return settings["scorer"] == "latent_search"


@dataclasses.dataclass
class BudgetChoice:
    """The search budget chosen on validation: the config with it as search.n_max, its
    scorer, that scorer's outputs on the validation samples, and what the calibration keeps
    of the choice under CALIBRATION_KEY (n_max, criterion, AUROC by budget)."""
    config: ml_collections.ConfigDict
    scorer: Any
    outputs: dict[str, np.ndarray]
    record: dict[str, Any]


def choose(config: ml_collections.ConfigDict, model, scorer, x: np.ndarray, y: np.ndarray,
           batch_size: int, progress=None) -> BudgetChoice | None:
    """Scores x (normalized validation samples, labels y) at each budget of search.budgets.

    Returns:
      None when there is nothing to choose (no budgets, no search, one class in y); else the
      BudgetChoice of the budget whose residual ranks y best.
    """
    budgets = candidates(config)
    if not budgets or not searches(scorer) or len(np.unique(y)) < 2:
        return None
    tried: dict[int, tuple[ml_collections.ConfigDict, Any, dict]] = {}
    aurocs: dict[int, float] = {}
    for budget in budgets:
        logging.info("scoring validation with a search budget of %d steps (%d of %d budgets "
                     "tried: %s)", budget, len(tried) + 1, len(budgets), budgets)
        chosen = config.copy_and_resolve_references()
        chosen.search.n_max = budget
        budget_scorer = scorer_lib.from_config(chosen, model)
        out = scorer_lib.score_samples(budget_scorer, x, batch_size, config.seed, progress)
        if CRITERION not in out:
            return None
        aurocs[budget] = float(roc_auc_score(y, out[CRITERION]))
        tried[budget] = (chosen, budget_scorer, out)
    best = max(budgets, key=lambda b: (aurocs[b], -b))
    logging.info("search budget chosen on validation: n_max %d (%s AUROC by budget: %s)",
                 best, CRITERION, aurocs)
    record = {"n_max": best, "criterion": CRITERION,
              "auroc_by_budget": {str(b): a for b, a in aurocs.items()}}
    chosen_config, chosen_scorer, outputs = tried[best]
    return BudgetChoice(chosen_config, chosen_scorer, outputs, record)


def recorded_n_max(calibration: dict) -> int | None:
    """The n_max a calibration chose on validation, or None where it chose none."""
    record = calibration.get(CALIBRATION_KEY)
    return None if record is None else int(record["n_max"])
