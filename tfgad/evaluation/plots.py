"""Figures for a run; each function writes one PNG and returns its path."""
import os

import numpy as np
# Figure objects, not pyplot: files only, and importing tfgad leaves the process's matplotlib
# backend (a notebook's inline one, say) as it is.
from matplotlib.figure import Figure
from sklearn.metrics import precision_recall_curve, roc_curve


def subplots(*args, figsize=None, **kwargs):
    """pyplot.subplots without pyplot: (figure, axes)."""
    fig = Figure(figsize=figsize, layout="constrained")  # titles never over tick labels
    return fig, fig.subplots(*args, **kwargs)


def save(fig: Figure, path: str) -> str:
    """Writes fig as a PNG at path atomically; returns path."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = os.path.join(os.path.dirname(path), ".tmp-" + os.path.basename(path))
    fig.savefig(tmp, dpi=80, bbox_inches="tight", format="png")
    os.replace(tmp, path)
    return path


def _draw(ax, sample, **kwargs):
    """A series (L, C) as lines, an image (H, W, C) as a grey picture."""
    if sample.ndim == 2:
        ax.plot(sample[:, 0], **kwargs)
    else:
        ax.imshow(sample[..., 0], cmap="gray")
        ax.set_xticks([])
        ax.set_yticks([])


def training_losses(history: dict, path: str) -> str:
    """history: {metric: [value per epoch]}."""
    fig, ax = subplots(figsize=(7, 4))
    for name, values in history.items():
        if name != "epoch":
            ax.plot(np.arange(1, len(values) + 1), values, label=name)
    ax.set_xlabel("epoch")
    ax.legend()
    ax.set_title("training")
    return save(fig, path)


def real_vs_generated(real: np.ndarray, generated: np.ndarray, path: str,
                      title: str = "real (top) vs generated (bottom)") -> str:
    count = min(len(real), len(generated), 6)
    fig, axes = subplots(2, count, figsize=(2.5 * count, 4.5), squeeze=False)
    for i in range(count):
        _draw(axes[0, i], real[i])
        _draw(axes[1, i], generated[i], color="tab:orange")
    fig.suptitle(title)
    return save(fig, path)


def overlay_map(ax, anomaly_map: np.ndarray, x_axis=None) -> None:
    """The anomaly map over a drawn sample: shaded on a second axis under a series (x_axis:
    its time axis), a heat layer over the left picture of an image panel."""
    if anomaly_map.ndim == 1:
        twin = ax.twinx()
        steps = np.arange(len(anomaly_map)) if x_axis is None else x_axis
        twin.fill_between(steps, 0, anomaly_map, color="tab:purple", alpha=0.25, lw=0,
                          label="anomaly map |x - x_hat|")
        twin.set_yticks([])
        twin.set_ylim(0, max(float(np.max(anomaly_map)), 1e-6) * 3)  # the map stays low
        return
    height, width = anomaly_map.shape
    ax.imshow(anomaly_map, cmap="inferno", alpha=0.5, extent=(-0.5, width - 0.5, height - 0.5,
                                                             -0.5))


def reconstructions(x: np.ndarray, x_hat: np.ndarray, labels: np.ndarray, path: str,
                    per_class: int = 4, map_smoothing: float = 0.0) -> str:
    """Samples and their reconstructions, normal ones in the top row and anomalies below,
    each with its anomaly map (tfgad/detection/maps.py) over the sample."""
    from tfgad.detection import maps
    anomaly_maps = maps.residual_map(x, x_hat, sigma=map_smoothing)
    rows = [np.flatnonzero(labels == c)[:per_class] for c in (0, 1)]
    fig, axes = subplots(2, per_class, figsize=(2.8 * per_class, 5), squeeze=False)
    for r, (index, name) in enumerate(zip(rows, ("normal", "anomaly"))):
        for c in range(per_class):
            ax = axes[r, c]
            if c >= len(index):
                ax.axis("off")
                continue
            if x.ndim == 3:
                _draw(ax, x[index[c]], label="x")
                _draw(ax, x_hat[index[c]], label="G(z*)", color="tab:orange")
            else:
                _draw(ax, np.concatenate([x[index[c]], x_hat[index[c]]], axis=1))
            overlay_map(ax, anomaly_maps[index[c]])
            ax.set_title(f"{name}" + ("" if x.ndim == 3 else ": x with its map | x_hat"),
                         fontsize=9, pad=3)
            ax.tick_params(labelsize=7)
    axes[0, 0].legend(fontsize=7) if x.ndim == 3 else None
    return save(fig, path)


def score_histograms(scores: np.ndarray, labels: np.ndarray, path: str,
                     title: str = "combined score", threshold=None) -> str:
    fig, ax = subplots(figsize=(6, 4))
    bins = np.histogram_bin_edges(scores, bins=40)
    for label, name in ((0, "normal"), (1, "anomaly")):
        ax.hist(scores[labels == label], bins=bins, alpha=0.6, density=True, label=name)
    if threshold is not None:
        ax.axvline(threshold, color="k", linestyle="--", label="threshold")
    ax.set_title(title)
    ax.legend()
    return save(fig, path)


def roc_pr(labels: np.ndarray, scores: np.ndarray, path: str) -> str:
    fig, (a, b) = subplots(1, 2, figsize=(10, 4))
    from sklearn.metrics import average_precision_score, roc_auc_score
    fpr, tpr, _ = roc_curve(labels, scores)
    a.plot(fpr, tpr, label=f"AUROC {roc_auc_score(labels, scores):.3f}")
    a.plot([0, 1], [0, 1], "k:", label="chance")
    a.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    a.legend(loc="lower right")
    precision, recall, _ = precision_recall_curve(labels, scores)
    b.plot(recall, precision, label=f"AUPRC {average_precision_score(labels, scores):.3f}")
    b.axhline(np.mean(labels), color="k", linestyle=":", label="chance (anomaly rate)")
    b.set(xlabel="recall", ylabel="precision", title="precision-recall")
    b.legend(loc="upper right")
    return save(fig, path)


def training_scores(scores: np.ndarray, labels: np.ndarray, left_out: np.ndarray, path: str,
                    title: str = "training scores") -> str:
    """Histogram of the training split's scores by true label, with robust training's cut: the
    lowest score among the samples it left out (none drawn if it left none out)."""
    fig, ax = subplots(figsize=(6, 4))
    bins = np.histogram_bin_edges(scores, bins=50)
    for label, name in ((0, "normal"), (1, "anomaly (injected)")):
        if (labels == label).any():
            ax.hist(scores[labels == label], bins=bins, alpha=0.6, label=name)
    if left_out.any():
        ax.axvline(scores[left_out].min(), color="k", linestyle="--", label="left out above")
    ax.set(xlabel="score", ylabel="training samples", title=title)
    ax.legend()
    return save(fig, path)


def decision_boundary(calibration: dict, components: dict, labels: np.ndarray, pair: list,
                      path: str, apply_fn) -> str:
    """The calibrated score over the plane of two components, the others at their normal median.

    Args:
      calibration: a calibration dict; apply_fn(calibration, components) -> (scores, decisions).
      components: {name: [N]} of the samples to show; labels [N].
      pair: the two component names on the axes.
    """
    a, b = pair
    normal = labels == 0
    grid = {}
    bounds = [np.percentile(components[n], [0.5, 99.5]) for n in pair]
    ax_values = [np.linspace(float(low), float(high), 150) for low, high in bounds]
    ga, gb = np.meshgrid(*ax_values)
    for name in calibration["components"]:
        grid[name] = np.full(ga.size, np.median(components[name][normal]))
    grid[a], grid[b] = ga.ravel(), gb.ravel()
    scores, _ = apply_fn(calibration, grid)
    fig, ax = subplots(figsize=(6.5, 5))
    mesh = ax.contourf(ga, gb, scores.reshape(ga.shape), levels=30, cmap="coolwarm", alpha=0.5)
    ax.contour(ga, gb, scores.reshape(ga.shape), levels=[calibration["threshold"]], colors="k")
    for label, name, color in ((0, "normal", "tab:blue"), (1, "anomaly", "tab:red")):
        ax.scatter(components[a][labels == label], components[b][labels == label], s=6,
                   alpha=0.6, color=color, label=name)
    ax.set(xlabel=a, ylabel=b, xlim=ax_values[0][[0, -1]], ylim=ax_values[1][[0, -1]],
           title=f"{calibration['combiner']['kind']} score and threshold (black)")
    fig.colorbar(mesh, ax=ax, label="combined score")
    ax.legend(loc="upper left")
    return save(fig, path)
