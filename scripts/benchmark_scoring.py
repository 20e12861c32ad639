"""Scoring throughput on new data: beats/s of scoring whole MIT-BIH records with an export.

Usage:
  python scripts/benchmark_scoring.py --model encoder=saved_models/aegan-mitbih \
      --model search=saved_models/gan-mitbih [--record=../shared/data/mitdb/100] [--repeats=3]
      [--workers=1,2] [--dask_workers=1,2] [--output=results/scoring.json]

For each model: the local path (python -m tfgad.score: load the export, read and cut the
record, score, write scores.csv, annotations and the plot), the Beam pipeline on the
DirectRunner in multi-process mode with 1 and 2 workers, and on a local dask.distributed
cluster of 1 and 2 workers (pipeline start-up included, as a user sees it). Wall time per run, median over repeats; writes JSON and a markdown table beside it.
"""
import argparse
import json
import os
import platform
import statistics
import tempfile
import time

import tfgad  # noqa: F401  (sets TF log level and Keras backend before TF is imported)
from tfgad import io_utils
from tfgad import score as score_cli
from tfgad.inference import detector as detector_lib
from tfgad.inference import records


def timed_run(argv, repeats):
    times = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as output:
            start = time.perf_counter()
            score_cli.run([*argv, f"--output={output}"])
            times.append(time.perf_counter() - start)
    return times


def dask_timed_run(argv, repeats, workers):
    """timed_run on a local dask.distributed cluster of that many worker processes (on
    127.0.0.1; cluster start-up not timed, the pipeline's is)."""
    import distributed
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, processes=True) as cluster:
        try:
            return timed_run([*argv, f"--dask_client_address={cluster.scheduler_address}"],
                             repeats)
        finally:
            distributed.default_client().close()  # the runner's client, before its cluster


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", required=True, help="LABEL=EXPORT_PATH")
    parser.add_argument("--record", default=os.path.join("..", "shared", "data", "mitdb", "100"))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", default="1,2", help="DirectRunner worker counts")
    parser.add_argument("--dask_workers", default="1,2", help="local Dask cluster sizes "
                        "(extra [dask]); empty: none")
    parser.add_argument("--output", default="results/scoring.json")
    args = parser.parse_args(argv)
    rows = []
    for spec in args.model:
        label, path = spec.split("=", 1)
        info = detector_lib.ExportInfo(path)
        common = [f"--model={path}", f"--input={args.record}"]
        # The beats the runs score: cut once, without loading the model or scoring them.
        beats = len(records.cut(args.record, info.input).peaks)
        runs = [("local", [], args.repeats)]
        runs += [(f"beam DirectRunner, {w} worker(s)",
                  ["--runner=DirectRunner", f"--direct_num_workers={w}",
                   "--direct_running_mode=multi_processing"], max(1, args.repeats - 1))
                 for w in [int(v) for v in args.workers.split(",")]]
        runs += [(f"beam DaskRunner, {w} worker(s)", ["--runner=DaskRunner"], max(1, args.repeats - 1),
                  w) for w in [int(v) for v in args.dask_workers.split(",") if v.strip()]]
        for how, extra, repeats, *dask_workers in runs:
            if dask_workers:
                times = dask_timed_run(common + extra, repeats, dask_workers[0])
            else:
                times = timed_run(common + extra, repeats)
            median = statistics.median(times)
            rows.append({"model": label, "scorer": info.scorer, "search": info.search_settings,
                         "path": how, "beats": beats, "seconds_median": median,
                         "seconds": times, "beats_per_second": beats / median})
            print(rows[-1], flush=True)
    result = {"machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
              "record": args.record, "rows": rows}
    io_utils.write_text(args.output, json.dumps(result, indent=2))
    lines = ["| model | scorer | path | beats | s (median) | beats/s |", "|---|---|---|---|---|---|"]
    lines += [f"| {r['model']} | {r['scorer']} | {r['path']} | {r['beats']} | "
              f"{r['seconds_median']:.2f} | {r['beats_per_second']:.0f} |" for r in rows]
    io_utils.write_text(os.path.splitext(args.output)[0] + ".md", "\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
