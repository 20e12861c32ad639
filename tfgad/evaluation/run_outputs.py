"""Writers of a run's outputs: the scores CSV, the training history and the plot selection."""
import csv
import io
import os

import numpy as np

from tfgad.detection import calibration, record_scoring
from tfgad.models import scores
from tfgad.evaluation import plots
from tfgad.data.types import Samples


def scores_csv(samples: Samples, outputs: dict, combined: np.ndarray,
               predictions: np.ndarray) -> str:
    """One CSV row per sample: id, group, label, class, components, search diagnostics, score.

    Args:
      samples: the scored Samples (x [N, ...], y, groups, classes).
      outputs: the scorer's dict of [N] arrays.
      combined, predictions: [N] calibrated scores and 0/1 decisions.
    """
    names = scores.component_names(outputs)
    search = [k for k in ("search_loss", "iterations") if k in outputs]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "group", "label", "class", *names, *search, "score", "prediction"])
    for i in range(len(samples)):
        writer.writerow([i, samples.groups[i], samples.y[i], samples.classes[i],
                         *[f"{outputs[k][i]:.6g}" for k in names + search],
                         f"{combined[i]:.6g}", predictions[i]])
    return buffer.getvalue()


def history(workdir: str) -> dict:
    """{metric: [value per epoch]} from workdir/training_log.csv ({} if there is none)."""
    path = os.path.join(workdir, "training_log.csv")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        rows = list(csv.DictReader(f))
    # CSVLogger writes NA columns for validation metrics, which GAN training does not compute.
    return {k: [float(r[k]) for r in rows] for k in (rows[0] if rows else {})
            if k != "epoch" and all(r[k] not in ("", "NA") for r in rows)}


def strongest_pair(calib: dict, components_val: dict) -> list | None:
    """The two calibrated components with the highest validation AUROC, or None."""
    ranked = sorted(calib["components"], key=lambda n: -np.nan_to_num(components_val[n]["auroc"]))
    return ranked[:2] if len(ranked) >= 2 else None


def write_plots(workdir: str, model, test, outputs: dict, combined: np.ndarray, calib: dict,
                components_val: dict, map_smoothing: float = 0.0) -> dict:
    """Writes the run's plots under workdir/plots; returns {title: path relative to workdir}."""
    d = os.path.join(workdir, "plots")
    files = {}
    losses = history(workdir)
    if losses:
        files["training losses"] = plots.training_losses(losses, os.path.join(d, "training_losses.png"))
    z = model.prior.sample(6, seed=[0, 1])
    # The signal channels only: context channels (data.rhythm_features) are not generated.
    signal = test.x[..., :np.shape(outputs["x_hat"])[-1]]
    files["real vs generated"] = plots.real_vs_generated(
        signal[test.y == 0][:6], model.generator(z, training=False).numpy(),
        os.path.join(d, "real_vs_generated.png"))
    files["reconstructions"] = plots.reconstructions(
        signal, outputs["x_hat"], test.y, os.path.join(d, "reconstructions.png"),
        map_smoothing=map_smoothing)
    files["score histograms"] = plots.score_histograms(
        combined, test.y, os.path.join(d, "score_histograms.png"), threshold=calib["threshold"])
    if len(np.unique(test.y)) == 2:
        files["ROC and PR"] = plots.roc_pr(test.y, combined, os.path.join(d, "roc_pr.png"))
    pair = strongest_pair(calib, components_val)
    # A boundary over two raw components has no meaning once scores are normalized per record.
    if pair and not record_scoring.is_record_normalized(calib):
        files["decision boundary"] = plots.decision_boundary(
            calib, outputs, test.y, pair, os.path.join(d, "decision_boundary.png"),
            calibration.apply)
    # Written by robust training (tfgad/training/robust/outputs.py); listed here so the report shows it.
    training_scores = os.path.join(d, "training_scores.png")
    if os.path.exists(training_scores):
        files["training scores (robust training)"] = training_scores
    return {k: os.path.relpath(v, workdir) for k, v in files.items()}
