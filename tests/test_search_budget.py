"""The search budget chosen on validation: parsing, when there is nothing to choose, the
choice itself, and a stored choice applied again."""
import numpy as np
import pytest

from tfgad import data, models, priors
from tfgad.detection import scorer as scorer_lib, search_budget
from tfgad.detector import Detector
from tfgad.errors import UserError


@pytest.mark.parametrize("text, expected", [("", []), ("0,25,50", [0, 25, 50]),
                                            (" 50, 0 ,25,25", [0, 25, 50])])
def test_budgets_are_parsed_sorted_and_unique(test_config, text, expected):
    test_config.search.budgets = text
    assert search_budget.candidates(test_config) == expected


@pytest.mark.parametrize("text", ["ten", "0,-5"])
def test_bad_budgets_are_named(test_config, text):
    test_config.search.budgets = text
    with pytest.raises(UserError, match="search.budgets=.*e.g. 0,25,50"):
        search_budget.candidates(test_config)


@pytest.fixture(scope="module")
def gan_and_val():
    from tfgad.configs import test
    config = test.get_config()
    config.model.name = "gan"
    splits, _ = data.load_splits(config)
    model = models.build(config, splits["train"].x.shape[1:], priors.from_config(config))
    return config, model, splits["val"]


def test_the_budget_whose_residual_ranks_validation_best_is_kept(gan_and_val):
    config, model, val = gan_and_val
    config = config.copy_and_resolve_references()
    config.search.budgets = "0,8"
    scorer = scorer_lib.from_config(config, model)
    chosen = search_budget.choose(config, model, scorer, val.x, val.y, 64)
    assert isinstance(chosen, search_budget.BudgetChoice)
    chosen_config, chosen_scorer, out, record = (chosen.config, chosen.scorer, chosen.outputs,
                                                 chosen.record)
    aurocs = {int(b): a for b, a in record["auroc_by_budget"].items()}
    best = max(aurocs, key=aurocs.get)
    assert record["n_max"] == best and record["criterion"] == "residual"
    assert set(aurocs) == {0, 8} and chosen_config.search.n_max == best
    assert chosen_scorer.settings()["search"]["n_max"] == best
    assert out["residual"].shape == (len(val),)
    assert np.all(out["iterations"] <= best)
    from sklearn.metrics import roc_auc_score
    assert aurocs[best] == pytest.approx(roc_auc_score(val.y, out["residual"]))
    assert config.search.n_max == 20  # the given config is left as it was


def test_nothing_is_chosen_without_budgets_labels_or_a_search(gan_and_val):
    config, model, val = gan_and_val
    config = config.copy_and_resolve_references()
    scorer = scorer_lib.from_config(config, model)
    assert search_budget.choose(config, model, scorer, val.x, val.y, 64) is None  # no budgets
    config.search.budgets = "0,8"
    normal = val.y == 0
    assert search_budget.choose(config, model, scorer, val.x[normal], val.y[normal], 64) is None
    config.model.name = "aegan"
    encoder_model = models.build(config, val.x.shape[1:], priors.from_config(config))
    encoder = scorer_lib.from_config(config, encoder_model)
    assert search_budget.choose(config, encoder_model, encoder, val.x, val.y, 64) is None


def test_a_stored_choice_is_applied_to_the_search(gan_and_val):
    config, model, val = gan_and_val
    detector = Detector.from_model(config, model, {"mean": 0.0, "std": 1.0}, val.x.shape[1:])
    assert detector.scorer_settings()["search"]["n_max"] == config.search.n_max
    detector.use_calibration({"search_budget": {"n_max": 3}})
    assert detector.scorer_settings()["search"]["n_max"] == 3
    assert detector.config_.search.n_max == 3
