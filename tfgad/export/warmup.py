"""TF Serving's warm-up file: assets.extra/tf_serving_warmup_requests, a TFRecord of PredictionLog.

The export writes a small PredictRequest there, so that TF Serving (and the built-in server)
trace the search graph before the first real request."""
import os

import numpy as np
import tensorflow as tf

WARMUP_FILE = os.path.join("assets.extra", "tf_serving_warmup_requests")


def write(version_dir: str, sample_shape: tuple, signature: str = "serving_default",
          samples: int = 2) -> str:
    """Writes one request of `samples` zero samples x to signature (the one served requests
    call: score_components for record-normalized exports); returns the file's path."""
    from tensorflow_serving.apis import model_pb2, predict_pb2, prediction_log_pb2
    request = predict_pb2.PredictRequest(
        model_spec=model_pb2.ModelSpec(signature_name=signature))
    request.inputs["x"].CopyFrom(tf.make_tensor_proto(
        np.zeros((samples, *sample_shape), np.float32)))
    log = prediction_log_pb2.PredictionLog(predict_log=prediction_log_pb2.PredictLog(request=request))
    path = os.path.join(version_dir, WARMUP_FILE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with tf.io.TFRecordWriter(path) as writer:
        writer.write(log.SerializeToString())
    return path


def replay(model, version_dir: str) -> int:
    """Runs the warm-up requests of a version folder on its loaded model; returns how many."""
    from tensorflow_serving.apis import prediction_log_pb2
    path = os.path.join(version_dir, WARMUP_FILE)
    if not os.path.exists(path):
        return 0
    count = 0
    for record in tf.data.TFRecordDataset(path):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        function = model.signatures[request.model_spec.signature_name or "serving_default"]
        function(**{k: tf.constant(tf.make_ndarray(v)) for k, v in request.inputs.items()})
        count += 1
    return count
