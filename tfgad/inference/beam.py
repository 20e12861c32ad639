"""Bulk scoring on Apache Beam: inputs as a PCollection, RunInference with a tfgad ModelHandler,
sharded CSV out. Any runner works through Beam's own pipeline options (DirectRunner, Flink,
Spark, Dataflow); the rows are the same text as the local path writes."""
import os

from tfgad.errors import UserError
from tfgad.inference import detector as detector_lib
from tfgad.inference import inputs, outputs

try:
    import apache_beam as beam
    from apache_beam.ml.inference.base import ModelHandler, PredictionResult, RunInference
    from apache_beam.options.pipeline_options import PipelineOptions
except ImportError:  # an optional extra: the local path must not need it
    beam = None
    ModelHandler = object


def require_beam() -> None:
    if beam is None:
        raise UserError("--runner needs Apache Beam, an optional extra: pip install -e '.[beam]'")


class TfgadModelHandler(ModelHandler):
    """Loads the export once per worker (tf.saved_model.load, as Beam's own TF handlers load
    Keras models, which a SavedModel with custom signatures is not) and scores chunks.

    An element is one chunk of a source: (source, {column: [n]}, samples [n, *sample_shape]),
    cut at the same batch_size boundaries as the local path, so that both run the same batches
    and give the same numbers to the last bit (kernels may round differently per batch size).
    Its prediction is the chunk's ScoreResult.
    """

    def __init__(self, model_path: str):
        self.model_path = model_path

    def load_model(self):
        return detector_lib.Detector(self.model_path)

    def run_inference(self, batch, model, inference_args=None):
        for element in batch:
            yield PredictionResult(element, model.score(element[2], batch_size=len(element[2])))

    def batch_elements_kwargs(self):
        return {"min_batch_size": 1, "max_batch_size": 4}  # chunks, each already a batch

    def get_metrics_namespace(self):
        return "tfgad"


def _chunks(source_tuple, model_path, batch_size):
    """Reads one source in a worker: its samples in chunks of batch_size."""
    kind, path = source_tuple
    info = detector_lib.ExportInfo(model_path)
    samples = inputs.read(inputs.Source(kind, path), info)
    if info.record_normalization != "none":
        batch_size = max(1, len(samples.x))  # scores normalized within a record: one chunk
    for start in range(0, len(samples.x), batch_size):
        part = slice(start, start + batch_size)
        yield (samples.source.name, {c: v[part] for c, v in samples.columns.items()},
               samples.x[part])


def _csv_lines(prediction, component_names):
    name, columns, _ = prediction.example
    table = outputs.rows(name, columns, prediction.inference, component_names)
    return outputs.csv_text(table).splitlines()


def run(model_path: str, sources: list, output: str, pipeline_args: list,
        batch_size: int = 256) -> list:
    """Runs the scoring pipeline; returns the written CSV shards (each with the header)."""
    require_beam()
    info = detector_lib.ExportInfo(model_path)
    names = info.components
    os.makedirs(output, exist_ok=True)
    prefix = os.path.join(output, "scores")
    with beam.Pipeline(options=PipelineOptions(pipeline_args)) as pipeline:
        _ = (pipeline
             | "Sources" >> beam.Create([(s.kind, s.path) for s in sources])
             | "Read" >> beam.FlatMap(_chunks, info.path, batch_size)
             # Without it, fusion keeps a record's chunks on the worker that read it.
             | "Spread" >> beam.Reshuffle()
             | "Score" >> RunInference(TfgadModelHandler(info.path))
             | "Format" >> beam.FlatMap(_csv_lines, names)
             | "Write" >> beam.io.WriteToText(prefix, file_name_suffix=".csv",
                                              header=",".join(outputs.header(names))))
    return sorted(p for p in os.listdir(output) if p.startswith("scores-") and p.endswith(".csv"))
