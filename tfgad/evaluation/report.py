"""The markdown report of a run."""
import json


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def render(config, metrics, plot_files):
    """Markdown text from the config, the metrics dict and the plot paths (relative to the workdir)."""
    test = metrics["test"]
    lines = [
        f"# tfgad run: {config.model.name} on {config.data.name}",
        "",
        f"Scorer: `{config.detection.scorer}`; threshold `{metrics['calibration']['threshold_method']}` "
        f"= {metrics['calibration']['threshold']:.6g}, fit on the validation split only.",
        "",
        "## Test metrics",
        "",
        "| metric | value |",
        "|---|---|",
        *[f"| {k} | {_fmt(v)} |" for k, v in test.items()],
        "",
        "## Score components on test (each alone)",
        "",
        "| component | weight | AUROC | AUPRC |",
        "|---|---|---|---|",
        *[f"| {k} | {metrics['calibration']['weights'].get(k, 0.0):g} | {_fmt(v['auroc'])} | "
          f"{_fmt(v['auprc'])} |" for k, v in metrics["components_test"].items()],
        "",
        "## Splits",
        "",
        "| split | samples | anomalies |",
        "|---|---|---|",
        *[f"| {k} | {v['samples']} | {v['anomalies']} |" for k, v in metrics["splits"].items()],
        "",
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
