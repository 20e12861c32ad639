"""Scores new data with an exported model.

    python -m tfgad.score --model=saved_models/NAME[/VERSION] --input=PATH --output=DIR
        [--batch_size=256] [--no_plots] [--stream] [--overwrite]
        [--runner=DirectRunner [Beam options ...]]

PATH: a WFDB record (data/mitdb/100) or a folder of records, an .npz/.npy array file, or a
folder of PNG/JPEG images (or of array files). DIR gets scores.csv (one row per sample),
summary.json, and for records a WFDB annotation file <record>.tfgad of the flagged beats and
plots/<record>.png. With --runner, the same scoring runs as an Apache Beam pipeline (optional
extra [beam]; --runner=DaskRunner with the extra [dask]) and writes the same scores.csv and
summary.json (no annotations or plots); options the command does not know go to Beam, e.g.
--direct_num_workers=2 --direct_running_mode=multi_processing, or
--dask_client_address=127.0.0.1:8786.

Each row says its beat's signal quality (flat, clipped, implausible amplitude and NaN gaps are
reported, and flat or NaN beats are not scored) and, for exports normalized per record, the
baseline it was normalized by: the whole record, or with --stream each record in time order
with causal baselines (the last N usable beats before the beat, after K warm-up beats; before
that "warming_up", scored against the global calibration), beat for beat what the server
answers for the record's beats sent one by one.

An --output folder that holds another scoring run's results is refused in one line;
--overwrite replaces them (the previous scores.csv, summary.json, annotations and plots are
removed first; other files stay).

A source of a folder that cannot be scored (a record without the model's lead, an unreadable
file) is skipped with one warning line; the others are scored and summary.json lists the
skipped ones with the reason. --lead=NAME reads the model's lead under another name.
Exit codes: 0 every source scored; 3 partial (some skipped, the rest written); 2 an error,
nothing scored (one line on stderr).

Example, from Python (run(argv) is the command without its exit; tests/test_docstrings.py runs
it):

>>> import os, tempfile, numpy as np, tfgad
>>> from tfgad import config_files, data, score
>>> splits, _ = data.load_splits(config_files.load("test"), normalize=False)
>>> folder = tempfile.mkdtemp()
>>> detector = tfgad.Detector("test", verbose=0).fit(splits["train"].x)
>>> export = detector.export(os.path.join(folder, "saved_models", "ecg"))
>>> np.save(os.path.join(folder, "beats.npy"), splits["test"].x[:10])
>>> report = score.run(["--model", export, "--input", os.path.join(folder, "beats.npy"),
...                     "--output", os.path.join(folder, "scored")])  # doctest: +ELLIPSIS
model ...
beats.npy: ... of 10 flagged (...)
total: ... of 10 flagged (...); outputs in ...
>>> sorted(os.listdir(os.path.join(folder, "scored")))
['scores.csv', 'summary.json']
"""
import argparse
import os
import shutil
import sys
from typing import Any

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
from tfgad.errors import UserError

EXIT_ERROR, EXIT_PARTIAL = 2, 3


BOOLEAN_FLAGS = ("no_plots", "stream", "overwrite")


def absl_booleans(argv: list) -> list:
    """argv with absl's boolean forms (--stream=true|false, --nostream), which `tfgad train`
    and `tfgad serve` take, turned into argparse's (--stream or nothing): one flag style."""
    out = []
    for arg in argv:
        name, equals, value = arg[2:].partition("=") if arg.startswith("--") else ("", "", "")
        if name in BOOLEAN_FLAGS and equals:
            if value.lower() not in ("true", "false", "1", "0"):
                out.append(arg)  # argparse names the problem
            elif value.lower() in ("true", "1"):
                out.append(f"--{name}")
        elif name.startswith("no") and name[2:] in BOOLEAN_FLAGS and not equals:
            continue
        else:
            out.append(arg)
    return out


def parse(argv: list[str], prog: str = "python -m tfgad.score"
          ) -> tuple[argparse.Namespace, list[str]]:
    """(tfgad's arguments, the rest for Beam's PipelineOptions)."""
    argv = absl_booleans(argv)
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="saved_models/NAME or .../NAME/VERSION")
    parser.add_argument("--input", required=True, help="record, folder, .npz/.npy or image folder")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--no_plots", action="store_true", help="skip the record plots")
    parser.add_argument("--stream", action="store_true", help="record baselines: causal, beat "
                        "by beat in time order (as served), instead of the whole record's")
    parser.add_argument("--lead", help="records: the name of the model's lead in these records, "
                        "where it differs (default: the model's, e.g. MLII)")
    parser.add_argument("--overwrite", action="store_true", help="replace another scoring "
                        "run's results in --output (scores.csv, summary.json, annotations, plots)")
    parser.add_argument("--runner", help="a Beam runner (e.g. DirectRunner): score on Beam")
    args, rest = parser.parse_known_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch_size={args.batch_size}; must be positive")
    if rest and not args.runner:
        parser.error(f"unrecognized arguments: {' '.join(rest)} (Beam options need --runner)")
    return args, rest


# What a scoring run writes into --output: another run's are refused or, with --overwrite,
# removed first, so that no record's rows, annotations or plots outlive their run unexplained.
RUN_FILES = ("scores.csv", "summary.json")
RUN_FOLDERS = ("plots", ".beam-parts")


def _previous_outputs(output: str) -> list:
    from tfgad.inference.outputs import ANNOTATION_EXTENSION
    names = os.listdir(output) if os.path.isdir(output) else []
    return sorted(n for n in names if n in RUN_FILES + RUN_FOLDERS
                  or n.endswith("." + ANNOTATION_EXTENSION))


def check_output_folder(output: str, overwrite: bool = False) -> None:
    """Creates the output folder, or says in one line why it cannot be written or why it
    would mix two runs' results."""
    if os.path.exists(output) and not os.path.isdir(output):
        raise UserError(f"--output={output} is a file; give a folder (it is created if missing)")
    previous = _previous_outputs(output)
    if previous and not overwrite:
        shown = ", ".join(previous[:4]) + (f" and {len(previous) - 4} more" if len(previous) > 4
                                            else "")
        raise UserError(f"--output={output} holds another scoring run's results ({shown}); "
                        "give a new folder, or --overwrite to replace them")
    try:
        for name in previous:
            path = os.path.join(output, name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
        os.makedirs(output, exist_ok=True)
        probe = os.path.join(output, ".tfgad-write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError as e:
        raise UserError(f"cannot write to --output={output} ({e.strerror}); give a writable "
                        "folder") from None


def score_locally(detector, sources: list, output: str, batch_size: int = 256,
                  plots: bool = True, lead: str | None = None, stream: bool = False) -> dict:
    """Scores every source in this process into output (made by check_output_folder); writes
    scores.csv, annotations, plots, summary.json.

    A source that cannot be read or scored (UserError) is skipped with a warning and listed in
    the summary's "skipped", unless it is the only one. Whatever happens, the rows of the
    sources scored so far are written.

    Returns:
      the summary dict.
    """
    import keras
    from tfgad.inference import inputs, outputs
    names = detector.components
    table, per_source, skipped = [], [], []
    try:
        for source in sources:
            try:
                samples = inputs.read(source, detector, lead, causal=stream)
                print(f"{source.name}: {len(samples.x)} samples", flush=True)
                bar = keras.utils.Progbar(len(samples.x), unit_name="sample")
                result = detector.score(samples.x, batch_size, progress=bar.update,
                                        stream=stream)
            except UserError as e:
                if len(sources) == 1:
                    raise
                print(f"warning: skipping {source.name}: {e}", file=sys.stderr, flush=True)
                skipped.append({"source": source.name, "kind": source.kind, "reason": str(e)})
                continue
            names = names or sorted(result.components)
            table += outputs.rows(source.name, samples.columns, result, names)
            per_source.append(_source_entry(source, samples, result, output, plots,
                                             detector.threshold))
    finally:
        if per_source or skipped:
            report = _write(output, detector, names, table, per_source, skipped)
    if not per_source:
        raise UserError(f"none of the {len(sources)} sources could be scored (see the warnings "
                        f"and {os.path.join(output, 'summary.json')})")
    return report


def _source_entry(source, samples, result, output: str, plots: bool,
                  threshold: float | None = None) -> dict:
    from tfgad.inference import outputs
    entry = {"source": source.name, "kind": source.kind, "samples": len(result),
             "flagged": int(result.is_anomaly.sum()),
             "flagged_fraction": float(result.is_anomaly.mean()) if len(result) else 0.0,
             **outputs.source_context(result)}
    if samples.beats is not None:
        entry["hours"] = outputs.record_hours(samples.beats)
        entry["alarms_per_hour"] = entry["flagged"] / entry["hours"] if entry["hours"] else None
        entry["peaks_from"] = samples.beats.peak_source
        entry["annotations"] = outputs.write_annotations(samples.beats, result, output)
        if plots:
            entry["plot"] = outputs.plot_record(
                samples.beats, result, os.path.join(output, "plots", f"{source.name}.png"),
                threshold)
    return entry


def _write(output, detector, names, table, per_source, skipped) -> dict:
    from tfgad import io_utils
    from tfgad.inference import outputs
    io_utils.write_text(os.path.join(output, "scores.csv"),
                        outputs.csv_text([outputs.header(names)] + table))
    report = outputs.summary(per_source, detector)
    report["skipped"] = skipped
    outputs.write_summary(output, report)
    return report


def run(argv: list[str], prog: str = "python -m tfgad.score") -> dict[str, Any]:
    """The command without its exit handling (tests call this); returns what it writes to
    summary.json."""
    args, beam_args = parse(argv, prog)  # first: --help answers without TensorFlow
    from tfgad.inference import detector as detector_lib
    from tfgad.inference import inputs
    sources = inputs.discover(args.input)
    check_output_folder(args.output, args.overwrite)
    if args.runner:
        from tfgad.inference import beam
        beam.require_beam()
        report = beam.run(args.model, sources, args.output,
                          [f"--runner={beam.runner_name(args.runner)}", *beam_args],
                          args.batch_size, args.lead, args.stream)
    else:
        detector = detector_lib.load(args.model)
        print(f"model {detector}", flush=True)
        report = score_locally(detector, sources, args.output, args.batch_size,
                               not args.no_plots, args.lead, args.stream)
    for entry in report["sources"]:
        signal = "; no signal (lead off?)" if entry.get("signal") == "no_signal" else ""
        per_hour = (f", {entry['alarms_per_hour']:.1f} per hour"
                    if entry.get("alarms_per_hour") is not None else "")
        print(f"{entry['source']}: {entry['flagged']} of {entry['samples']} flagged "
              f"({100 * entry['flagged_fraction']:.1f} %{per_hour}){signal}")
    alarms = (f"; {report['alarms_per_hour']:.1f} alarms per hour of signal"
              if report.get("alarms_per_hour") is not None else "")
    print(f"total: {report['flagged']} of {report['samples']} flagged "
          f"({100 * report['flagged_fraction']:.1f} %){alarms}; outputs in {args.output}")
    if report.get("skipped"):
        print(f"partial: {len(report['skipped'])} of {len(sources)} sources skipped "
              f"({', '.join(s['source'] for s in report['skipped'])}); see summary.json",
              file=sys.stderr)
    return report


def main(argv=None, prog: str = "python -m tfgad.score") -> None:
    try:
        report = run(sys.argv[1:] if argv is None else argv, prog)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    except OSError as e:  # a disk that fills or goes read-only while the outputs are written
        print(f"error: cannot write the outputs ({e.strerror}: {e.filename}); free space or "
              "give another --output", file=sys.stderr)
        sys.exit(EXIT_ERROR)
    if report.get("skipped"):
        sys.exit(EXIT_PARTIAL)


if __name__ == "__main__":
    main()
