"""Scores new data with an exported model.

    python -m tfgad.score --model=saved_models/NAME[/VERSION] --input=PATH --output=DIR
        [--batch_size=256] [--no_plots] [--runner=DirectRunner [Beam pipeline options ...]]

PATH: a WFDB record (data/mitdb/100) or a folder of records, an .npz/.npy array file, or a
folder of PNG/JPEG images (or of array files). DIR gets scores.csv (one row per sample),
summary.json, and for records a WFDB annotation file <record>.tfgad of the flagged beats and
plots/<record>.png. With --runner, the same scoring runs as an Apache Beam pipeline (optional
extra [beam]) and writes sharded scores-*.csv; options the command does not know go to Beam,
e.g. --direct_num_workers=2 --direct_running_mode=multi_processing.
"""
import argparse
import os
import sys

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
from tfgad.errors import UserError


def parse(argv: list) -> tuple:
    """(tfgad's arguments, the rest for Beam's PipelineOptions)."""
    parser = argparse.ArgumentParser(prog="python -m tfgad.score", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="saved_models/NAME or .../NAME/VERSION")
    parser.add_argument("--input", required=True, help="record, folder, .npz/.npy or image folder")
    parser.add_argument("--output", required=True, help="output folder")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--no_plots", action="store_true", help="skip the record plots")
    parser.add_argument("--runner", help="a Beam runner (e.g. DirectRunner): score on Beam")
    args, rest = parser.parse_known_args(argv)
    if args.batch_size < 1:
        parser.error(f"--batch_size={args.batch_size}; must be positive")
    if rest and not args.runner:
        parser.error(f"unrecognized arguments: {' '.join(rest)} (Beam options need --runner)")
    return args, rest


def score_locally(detector, sources: list, output: str, batch_size: int = 256,
                  plots: bool = True) -> dict:
    """Scores every source in this process; writes scores.csv, annotations, plots, summary.json.

    Returns:
      the summary dict.
    """
    import keras
    from tfgad import io_utils
    from tfgad.inference import inputs, outputs
    os.makedirs(output, exist_ok=True)
    names = detector.components
    table, per_source = [], []
    for source in sources:
        samples = inputs.read(source, detector)
        print(f"{source.name}: {len(samples.x)} samples", flush=True)
        bar = keras.utils.Progbar(len(samples.x), unit_name="sample")
        result = detector.score(samples.x, batch_size, progress=bar.update)
        names = names or sorted(result.components)
        table += outputs.rows(source.name, samples.columns, result, names)
        entry = {"source": source.name, "kind": source.kind, "samples": len(result),
                 "flagged": int(result.is_anomaly.sum()),
                 "flagged_fraction": float(result.is_anomaly.mean()) if len(result) else 0.0}
        if samples.beats is not None:
            entry["peaks_from"] = samples.beats.peak_source
            entry["annotations"] = outputs.write_annotations(samples.beats, result, output)
            if plots:
                entry["plot"] = outputs.plot_record(
                    samples.beats, result, os.path.join(output, "plots", f"{source.name}.png"))
        per_source.append(entry)
    io_utils.write_text(os.path.join(output, "scores.csv"),
                        outputs.csv_text([outputs.header(names)] + table))
    report = outputs.summary(per_source, detector)
    outputs.write_summary(output, report)
    return report


def run(argv: list) -> dict:
    """The command without its exit handling (tests call this)."""
    from tfgad.inference import detector as detector_lib
    from tfgad.inference import inputs
    args, beam_args = parse(argv)
    sources = inputs.discover(args.input)
    if args.runner:
        from tfgad.inference import beam
        beam.require_beam()
        shards = beam.run(args.model, sources, args.output, [f"--runner={args.runner}", *beam_args],
                          args.batch_size)
        print(f"wrote {len(shards)} shard(s) scores-*.csv to {args.output}")
        return {"shards": shards}
    detector = detector_lib.load(args.model)
    print(f"model {detector}", flush=True)
    report = score_locally(detector, sources, args.output, args.batch_size, not args.no_plots)
    for entry in report["sources"]:
        print(f"{entry['source']}: {entry['flagged']} of {entry['samples']} flagged "
              f"({100 * entry['flagged_fraction']:.1f} %)")
    print(f"total: {report['flagged']} of {report['samples']} flagged "
          f"({100 * report['flagged_fraction']:.1f} %); outputs in {args.output}")
    return report


def main(argv=None) -> None:
    try:
        run(sys.argv[1:] if argv is None else argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
