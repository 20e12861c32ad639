"""The markdown report of a run."""
import json

import ml_collections


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _weights(calibration):
    """{component: weight}; an SVM has no per-component weight."""
    combiner = calibration["combiner"]
    if "weights" not in combiner:
        return {}
    return dict(zip(calibration.get("combined_components", calibration["components"]),
                    combiner["weights"]))


def _combiner_line(calibration):
    combiner = calibration["combiner"]
    norm = calibration["normalization"]["kind"]
    text = f"Combiner `{combiner['kind']}` on `{norm}`-normalized components"
    if combiner["kind"] == "grid":
        text += f" (weights chosen for best validation {combiner['metric']} = {combiner['metric_value']:.4f})"
    if combiner["kind"] == "boosted":
        text += (f" (gradient-boosted trees: {len(combiner['feature'])} trees, depth at most "
                 f"{combiner['depth']})")
    if combiner["kind"] == "svm":
        text += (f" (RBF-SVM, C = {combiner['C']:g}, gamma = {combiner['gamma']:.4g}, "
                 f"{len(combiner['dual_coef'])} support vectors)")
    return text + "."


def _contamination_lines(metrics):
    """The injected contamination and what robust training left out, if either happened."""
    lines = []
    c = metrics.get("contamination")
    if c and c["asked"]:
        lines += ["## Contamination", "",
                  f"data.contamination = {c['asked']}: {c['injected']} anomalies injected into the "
                  f"train split ({c['fraction']:.2%}), classes {c['injected_by_class']}.", ""]
    r = metrics.get("robust")
    if r:
        quality = " | ".join(_fmt(r[k]) if r[k] is not None else "n/a"
                             for k in ("precision", "recall"))
        lines += ["## Robust training", "",
                  f"Method `{r['method']}`, cut: {r['fraction_rule']}. The true labels of the "
                  "train split were used for this table only.", "",
                  "| left out | of them anomalies | precision | recall |", "|---|---|---|---|",
                  f"| {r['left_out']} of {r['training_samples']} | {r['true_rejections']} of "
                  f"{r['anomalies']} | {quality} |", "",
                  f"Left out by class: {r['left_out_by_class']}; see `rejected.csv` and "
                  "`plots/training_scores.png`.", ""]
    return lines


def _unseen_lines(metrics: dict) -> list:
    unseen = metrics.get("test_unseen")
    if not unseen:
        return []
    return ["## Test on anomaly kinds validation never labelled", "",
            f"Test normals against the {unseen['anomalies']} anomalies of "
            f"{', '.join(unseen['classes']) or 'no class'} (data.val_anomaly_classes labelled "
            "the others):", "", "| metric | value |", "|---|---|",
            *[f"| {k} | {_fmt(unseen[k])} |" for k in ("auroc", "auprc", "f1", "mcc")], ""]


def render(config: ml_collections.ConfigDict, metrics: dict, plot_files: dict) -> str:
    """Markdown text from the config, the metrics dict and the plot paths (relative to the workdir)."""
    test = metrics["test"]
    weights = _weights(metrics["calibration"])
    used = set(metrics["calibration"]["components"])
    lines = [
        f"# tfgad run: {config.model.name} on {config.data.name}",
        "",
        f"Scorer: `{config.detection.scorer}`; threshold `{metrics['calibration']['threshold_method']}` "
        f"= {metrics['calibration']['threshold']:.6g}, fit on the validation split only: "
        f"{metrics['calibration'].get('threshold_reason', 'no reason recorded')}.",
        _combiner_line(metrics["calibration"]),
        "",
        "## Test metrics",
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {k} | {_fmt(v)} |" for k, v in test.items()],
        "",
        *_unseen_lines(metrics),
        "## Score components, each alone, and combined",
        "",
        "| component | weight | val AUROC | test AUROC | test AUPRC |",
        "|---|---|---|---|---|",
        *[f"| {k} | {weights.get(k, 'used' if k in used else '-')} | "
          f"{_fmt(metrics['components_val'][k]['auroc'])} | {_fmt(v['auroc'])} | "
          f"{_fmt(v['auprc'])} |" for k, v in metrics["components_test"].items()],
        f"| **combined** | | {_fmt(metrics['val']['auroc'])} | {_fmt(test['auroc'])} | "
        f"{_fmt(test['auprc'])} |",
        "",
        "## Splits",
        "",
        "| split | samples | anomalies |",
        "|---|---|---|",
        *[f"| {k} | {v['samples']} | {v['anomalies']} |" for k, v in metrics["splits"].items()],
        "",
        *_contamination_lines(metrics),
        "## Plots",
        "",
        *[f"![{name}]({path})" for name, path in plot_files.items()],
        "",
        "## Config",
        "",
        "```json",
        json.dumps(config.to_dict(), indent=2),
        "```",
        "",
    ]
    return "\n".join(lines)
