"""Do conformal false-alarm guarantees hold? The realized false-alarm rate on test normals
against alpha (0.01, 0.05), per suite over seeds, and on new patients per record, with and
without per-record (Mondrian-style) calibration on each record's own first beats.

Usage:
  python scripts/benchmark_conformal.py [--seeds=0,1,2]
      [--suites=synthetic_ecg,digits,mitbih_intra,mitbih_inter,mitbih_inter_record]
      [--mitdb=../shared/data/mitdb] [--output=results/conformal.json]
  python scripts/benchmark_conformal.py --alarms [--output=results/alarms_ds2.json]

--alarms: configs/ecg_new_patients.py fit once (seed 0, DS1), exported with the recipe's
threshold and with detection.threshold=conformal at each alpha, and every beat of the 22 DS2
records scored by `tfgad.score` (whole records): alarms per hour of signal, per record and in
total, with the false-alarm rate on the records' normal (N) beats.

Each suite's recipe is fit once per seed (tfgad.Detector.fit_samples on the suite's splits;
validation only for calibration), and every test sample gets its split-conformal p-value
against the normal validation scores (tfgad/detection/conformal.py); a sample is a false alarm
at alpha when it is normal and p <= alpha, which is what detection.threshold=conformal flags.
Split conformal promises FAR <= alpha only where test normals are exchangeable with the
validation normals: within a population (synthetic ECG, digits, MIT-BIH intra-patient), not
across patients (DS2). "per_record": each DS2 record's beats after its first FIRST_BEATS
(scored in time order) take their p-value against the scores of those first beats of their own
record (assumed normal, as at the start of a monitoring session) instead of validation's.
"""
import argparse
import os
import platform
import statistics

import tfgad  # sets TF log level and Keras backend before TF is imported
import numpy as np

from tfgad import config_files, data, io_utils
from tfgad.detection import conformal, record_scoring
from tfgad.evaluation import metrics as metric_lib

ALPHAS = (0.01, 0.05)
FIRST_BEATS = 100  # per_record: the record's own reference beats
MITBIH = {"data.name": "mitbih", "data.max_samples": 10000}
SUITES = {  # config, overrides
    "synthetic_ecg": ("aegan", {"train.epochs": 10}),
    "digits": ("tuned/aegan_digits", {}),
    "mitbih_intra": ("ecg_rhythm", {**MITBIH, "data.protocol": "intra"}),
    "mitbih_inter": ("ecg_rhythm", {**MITBIH, "data.protocol": "inter"}),
    "mitbih_inter_record": ("ecg_new_patients", {**MITBIH, "data.protocol": "inter"}),
}


def fitted(suite: str, seed: int, mitdb: str):
    name, overrides = SUITES[suite]
    config = config_files.override(config_files.load(name), overrides)
    config.seed = seed
    if config.data.name == "mitbih":
        config.data.dir = mitdb
    splits, norm = data.load_splits(config)
    detector = tfgad.Detector(config, verbose=0).fit_samples(splits["train"], splits["val"], norm)
    test = splits["test"]
    out = detector.components(test.x)
    scored = record_scoring.score(detector.calibration_, out, test.groups)
    return detector, test, scored


def per_record_p_values(scores: np.ndarray, groups: np.ndarray, first: int):
    """p-values of each record's later beats against its own first `first` beats' scores;
    (p [N], rows that have one)."""
    p, rows = np.full(len(scores), np.nan), np.zeros(len(scores), bool)
    for group in np.unique(groups):
        index = np.flatnonzero(groups == group)  # time order within the record
        if len(index) <= first:
            continue
        own = {conformal.KEY: np.sort(scores[index[:first]]).tolist()}
        p[index[first:]] = conformal.p_values(scores[index[first:]], own)
        rows[index[first:]] = True
    return p, rows


def rates(p: np.ndarray, y: np.ndarray, groups: np.ndarray | None) -> dict:
    normal = y == 0
    out = {}
    for alpha in ALPHAS:
        flagged = p <= alpha
        entry = {"far": float(flagged[normal].mean()),
                 "recall": float(flagged[~normal].mean()) if (~normal).any() else None,
                 **{k: metric_lib.decisions(y, flagged)[k] for k in ("f1", "mcc")}}
        if groups is not None:
            per_record = [flagged[normal & (groups == g)].mean() for g in np.unique(groups[normal])]
            entry["records_above_2_alpha"] = float(np.mean(np.array(per_record) > 2 * alpha))
            entry["records"] = len(per_record)
        out[str(alpha)] = entry
    return out


def run_suite(suite: str, seed: int, mitdb: str) -> dict:
    detector, test, scored = fitted(suite, seed, mitdb)
    by_record = test.groups if suite.startswith("mitbih_inter") else None
    result = {"seed": seed, "auroc": metric_lib.ranking(test.y, scored.score)["auroc"],
              "validation_normals": len(detector.calibration_[conformal.KEY]),
              "global": rates(scored.p_value, test.y, by_record)}
    if by_record is not None:
        p, rows = per_record_p_values(scored.score, test.groups, FIRST_BEATS)
        result["per_record"] = rates(p[rows], test.y[rows], test.groups[rows])
        result["per_record"]["scored_beats"] = int(rows.sum())
        result["global_same_beats"] = rates(scored.p_value[rows], test.y[rows], test.groups[rows])
    return result


def _mean(runs: list, *path) -> float | None:
    values = []
    for r in runs:
        for key in path:
            r = r.get(key) if isinstance(r, dict) else None
        if r is not None:
            values.append(r)
    return statistics.mean(values) if values else None


def table(rows: dict) -> str:
    lines = ["| suite | calibration | AUROC | FAR at 0.01 | FAR at 0.05 | recall at 0.05 | "
             "records FAR > 2 alpha (0.01 / 0.05) |", "|---|---|---|---|---|---|---|"]
    for suite, runs in rows.items():
        for kind in ("global", "global_same_beats", "per_record"):
            if kind not in runs[0]:
                continue
            share = [_mean(runs, kind, str(a), "records_above_2_alpha") for a in ALPHAS]
            shares = " / ".join("-" if s is None else f"{s:.2f}" for s in share)
            lines.append(f"| {suite} | {kind} | {_mean(runs, 'auroc'):.3f} | "
                         f"{_mean(runs, kind, '0.01', 'far'):.4f} | "
                         f"{_mean(runs, kind, '0.05', 'far'):.4f} | "
                         f"{_mean(runs, kind, '0.05', 'recall') or 0:.3f} | {shares} |")
    return "\n".join(lines) + "\n"


def alarms(mitdb: str, output: str) -> None:
    import shutil
    import tempfile
    from tfgad import score
    from tfgad.data import mitbih
    detector, _, _ = fitted("mitbih_inter_record", 0, mitdb)
    folder = tempfile.mkdtemp()
    records = os.path.join(folder, "ds2")
    os.makedirs(records)
    for record in mitbih.DS2:
        for ext in ("hea", "dat", "atr"):
            os.symlink(os.path.abspath(os.path.join(mitdb, f"{record}.{ext}")),
                       os.path.join(records, f"{record}.{ext}"))
    own = detector.calibration_
    rows = {}
    for rule, overrides in [("recipe (max_mcc)", {})] + [
            (f"conformal alpha {a}", {"detection.threshold": "conformal", "detection.alpha": a})
            for a in ALPHAS]:
        detector.use_calibration(detector.calibration_with(overrides) if overrides else own)
        export = detector.export(os.path.join(folder, "saved_models", "ecg"))
        report = score.run(["--model", export, "--input", records, "--no_plots", "--output",
                            os.path.join(folder, rule.replace(" ", "_"))])
        table = list(__import__("csv").DictReader(open(os.path.join(
            folder, rule.replace(" ", "_"), "scores.csv"))))
        normal = [r for r in table if r["annotation"] == "N"]
        rows[rule] = {"alarms_per_hour": report["alarms_per_hour"], "hours": report["hours"],
                      "beats": report["samples"], "flagged": report["flagged"],
                      "normal_false_alarm_rate": sum(r["is_anomaly"] == "1" for r in normal)
                      / len(normal),
                      "per_record": {e["source"]: e["alarms_per_hour"] for e in report["sources"]}}
    shutil.rmtree(folder, ignore_errors=True)
    io_utils.write_json(output, {"machine": platform.machine(), "rules": rows})
    lines = ["| threshold | alarms per hour (22 DS2 records) | FAR on N beats | records' median "
             "alarms/h | worst record alarms/h |", "|---|---|---|---|---|"]
    for rule, r in rows.items():
        per = sorted(r["per_record"].values())
        lines.append(f"| {rule} | {r['alarms_per_hour']:.1f} | {r['normal_false_alarm_rate']:.4f} "
                     f"| {statistics.median(per):.1f} | {per[-1]:.1f} |")
    io_utils.write_text(os.path.splitext(output)[0] + ".md", "\n".join(lines) + "\n")
    print("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--suites", default=",".join(SUITES))
    parser.add_argument("--mitdb", default="../shared/data/mitdb")
    parser.add_argument("--output", default=None)
    parser.add_argument("--alarms", action="store_true", help="DS2 alarms per hour instead")
    args = parser.parse_args()
    if args.alarms:
        return alarms(args.mitdb, args.output or "results/alarms_ds2.json")
    args.output = args.output or "results/conformal.json"
    rows = {}
    for suite in args.suites.split(","):
        rows[suite] = []
        for seed in (int(s) for s in args.seeds.split(",")):
            rows[suite].append(run_suite(suite, seed, args.mitdb))
            print(suite, seed, rows[suite][-1], flush=True)
            io_utils.write_json(args.output, {"machine": platform.machine(), "alphas": ALPHAS,
                                              "first_beats": FIRST_BEATS, "suites": rows})
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", table(rows))
    print(table(rows))


if __name__ == "__main__":
    main()
