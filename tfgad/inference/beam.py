"""Bulk scoring on Apache Beam: sources as a PCollection, read and cut in workers, scored by a
DoFn that loads the export once per worker, rows merged into scores.csv. Any runner works
through Beam's own pipeline options (DirectRunner, DaskRunner, Flink, Spark, Dataflow); the rows
are the same text, in the same order, as the local path writes.

Nothing here waits for finish_bundle: Beam 2.77's DaskRunner drops what a DoFn emits there
(RunInference's last batch, WriteToText's file names), and a run would "succeed" with rows
missing. Instead every output is written in process(): each source's reader writes a manifest
(how many chunks and samples, or why it was skipped), each chunk's scorer writes its own rows
file, and the driver checks, before it merges, that every source has its manifest and every
chunk its rows; a runner that loses any of them fails the run with one line.
"""
import csv
import json
import os

import numpy as np
from absl import logging

from tfgad import io_utils
from tfgad.data import signal_quality
from tfgad.errors import UserError
from tfgad.inference import detector as detector_lib
from tfgad.inference import inputs, outputs

try:
    import apache_beam as beam
    from apache_beam.io.filesystems import FileSystems
    from apache_beam.options.pipeline_options import PipelineOptions
except ImportError:  # an optional extra: the local path must not need it
    beam = None  # type: ignore[assignment]

# Runners Beam does not know by a short name: --runner=DaskRunner works as the others do.
RUNNER_CLASSES = {"DaskRunner": "apache_beam.runners.dask.dask_runner.DaskRunner"}
PARTS_DIR = ".beam-parts"  # under the output folder; removed after the merge


def runner_name(name: str) -> str:
    """The --runner value to give Beam: a short name of RUNNER_CLASSES as its class path."""
    return RUNNER_CLASSES.get(name, name)


def require_beam() -> None:
    if beam is None:
        raise UserError("--runner needs Apache Beam, an optional extra: pip install -e '.[beam]'")


def _write_atomically(path: str, text: str) -> None:
    """Writes through Beam's FileSystems (local, GCS, S3, ...), then renames into place, so a
    half-written part never counts."""
    tmp = path + ".tmp"
    with FileSystems.create(tmp) as f:
        f.write(text.encode())
    FileSystems.rename([tmp], [path])


def _manifest_path(parts: str, source: str) -> str:
    return os.path.join(parts, f"{source}.manifest.json")


def _rows_path(parts: str, source: str, chunk: int) -> str:
    return os.path.join(parts, f"{source}.{chunk:06d}.csv")


def read_chunks(source_tuple, model_path: str, batch_size: int, parts: str, lead=None,
                stream: bool = False):
    """Reads one source in a worker and yields its chunks of batch_size samples, (source,
    chunk index, {column: [n]}, samples [n, ...]), cut at the local path's batch boundaries so
    that both score the same batches. Writes the source's manifest first; a source that cannot
    be read gets a manifest that says why, and no chunk."""
    kind, path = source_tuple
    source = inputs.Source(kind, path)
    info = detector_lib.ExportInfo(model_path)
    try:
        samples = inputs.read(source, info, lead, causal=stream)
    except UserError as e:
        logging.warning("skipping %s: %s", source.name, e)
        _write_atomically(_manifest_path(parts, source.name),
                          json.dumps({"skipped": str(e), "kind": kind}))
        return
    if info.record_normalization != "none":
        batch_size = max(1, len(samples.x))  # scores normalized within a record: one chunk
    starts = range(0, len(samples.x), batch_size)
    _write_atomically(_manifest_path(parts, source.name), json.dumps(
        {"kind": kind, "chunks": len(starts), "samples": int(len(samples.x))}))
    for chunk, start in enumerate(starts):
        part = slice(start, start + batch_size)
        yield (source.name, chunk, {c: v[part] for c, v in samples.columns.items()},
               samples.x[part])


class ScoreChunks(beam.DoFn if beam else object):  # type: ignore[misc]
    """Scores a chunk and writes its rows file, both in process(); yields the chunk's row count."""

    def __init__(self, model_path: str, component_names: list, parts: str, stream: bool = False):
        self.model_path, self.names, self.parts = model_path, component_names, parts
        self.stream, self.detector = stream, None

    def setup(self):
        self.detector = detector_lib.Detector(self.model_path)  # once per worker

    def process(self, element):
        source, chunk, columns, x = element
        result = self.detector.score(x, batch_size=len(x), stream=self.stream)
        table = outputs.rows(source, columns, result, self.names)
        _write_atomically(_rows_path(self.parts, source, chunk), outputs.csv_text(table))
        yield len(table)


def _read(path: str) -> str:
    with FileSystems.open(path) as f:
        return f.read().decode()


def collect(parts: str, sources: list) -> tuple:
    """The written rows of every source, in source and chunk order, and the skipped sources.

    Raises:
      UserError naming the sources whose manifest or rows are missing or short.
    """
    rows, per_source, skipped, lost = [], [], [], []
    for source in sources:
        manifest_path = _manifest_path(parts, source.name)
        if not FileSystems.exists(manifest_path):
            lost.append(f"{source.name} (never read)")
            continue
        manifest = json.loads(_read(manifest_path))
        if "skipped" in manifest:
            skipped.append({"source": source.name, "kind": source.kind,
                            "reason": manifest["skipped"]})
            continue
        lines = []
        for chunk in range(manifest["chunks"]):
            path = _rows_path(parts, source.name, chunk)
            if FileSystems.exists(path):
                lines += _read(path).splitlines()
        if len(lines) != manifest["samples"]:
            lost.append(f"{source.name} ({len(lines)} of {manifest['samples']} rows)")
            continue
        rows += lines
        head = outputs.header([])
        table = list(csv.reader(lines))
        flagged = sum(row[head.index("is_anomaly")] == "1" for row in table)
        quality = np.array([row[head.index("quality")] for row in table], str)
        per_source.append({"source": source.name, "kind": source.kind, "samples": len(lines),
                           "flagged": flagged,
                           "flagged_fraction": flagged / len(lines) if lines else 0.0,
                           "quality": signal_quality.counts(quality),
                           "signal": signal_quality.record_verdict(quality)})
    if lost:
        raise UserError(f"the Beam runner lost output of {len(lost)} source(s): "
                        f"{', '.join(lost[:5])}; score with the local path (no --runner) or "
                        "another runner")
    return rows, per_source, skipped


def run(model_path: str, sources: list, output: str, pipeline_args: list,
        batch_size: int = 256, lead: str | None = None, stream: bool = False) -> dict:
    """Runs the scoring pipeline; writes output/scores.csv (the local path's rows and order)
    and summary.json. Returns the summary (with "skipped": the sources that were not scored)."""
    require_beam()
    info = detector_lib.ExportInfo(model_path)
    names = info.components
    parts = os.path.join(output, PARTS_DIR)
    if FileSystems.exists(parts):  # parts of an earlier run would count as this run's
        FileSystems.delete([parts])
    FileSystems.mkdirs(parts)
    pipeline = beam.Pipeline(options=PipelineOptions(pipeline_args))
    _ = (pipeline
         | "Sources" >> beam.Create([(s.kind, s.path) for s in sources])
         | "Read" >> beam.FlatMap(read_chunks, info.path, batch_size, parts, lead, stream)
         # Without it, fusion keeps a record's chunks on the worker that read it.
         | "Spread" >> beam.Reshuffle()
         | "Score" >> beam.ParDo(ScoreChunks(info.path, names, parts, stream)))
    pipeline.run().wait_until_finish()
    rows, per_source, skipped = collect(parts, sources)
    if not per_source:
        raise UserError(f"none of the {len(sources)} sources could be scored: "
                        + "; ".join(f"{s['source']}: {s['reason']}" for s in skipped[:3]))
    io_utils.write_text(os.path.join(output, "scores.csv"),
                        outputs.csv_text([outputs.header(names)]) + "\n".join(rows) + "\n")
    report = outputs.summary(per_source, info)
    report.update(skipped=skipped, runner=pipeline_args[0].split("=", 1)[1])
    outputs.write_summary(output, report)
    FileSystems.delete([parts])
    return report
