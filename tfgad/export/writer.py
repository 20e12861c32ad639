"""SavedModel export for TF Serving: the whole scoring, calibration included, in the graph.

saved_models/<name>/<version>/ holds a SavedModel with the signatures
  serving_default   x -> score, is_anomaly, each score component, x_hat
  score_components  x -> the components, z and x_hat, uncalibrated
  latent_search     x -> z, x_hat, loss, iterations (settings fixed at export)
  generate          z -> x
  encode            x -> z (models with an encoder)
For a calibration normalized within each record (detection.record_normalization=robust), a
row's answer depends on its record's baseline, which no batched graph may compute from the
request (a batcher merges requests of different records). Those exports take the baseline as
an input instead, row by row, and offer the stateless ways to get it:
  serving_default         x, record_location, record_scale [B, columns] -> score, is_anomaly, ...
  record_baseline         beats [B, W, *sample_shape] (a window of W beats of one record per
                          row) -> record_location, record_scale [B, columns]
  score_without_baseline  x -> score, is_anomaly against the global calibration (warm-up)
The built-in server keeps each record's baseline itself (tfgad/detection/record_context.py).
and assets.extra/tfgad.json with the config, calibration, normalization and search settings, and
assets.extra/tf_serving_warmup_requests, TF Serving's warm-up file (a PredictionLog).
Inputs are raw samples; the normalization fit on training data is applied in the graph.
"""
import contextlib
import json
from typing import Any
import logging
import os
import shutil

import ml_collections
import tensorflow as tf

from tfgad import config_files, data, io_utils, models, sections
from tfgad.data import normalization as normalization_lib
from tfgad.data import rhythm
from tfgad.detection import calibration as calibration_lib
from tfgad.detection import scorer as scorer_lib
from tfgad.detection import conformal, maps, record_scoring, xla_choice
from tfgad.errors import UserError
from tfgad.export import format as export_format
from tfgad.export import warmup
from tfgad.models import scores

SEARCH_OUTPUTS = tuple(k for k in scores.DIAGNOSTICS if k not in ("z", "x_hat"))


@contextlib.contextmanager
def _quiet_tensorflow_log():
    """TensorFlow logs an INFO line per signature input name at save (through absl's logger
    once absl is set up, else its own); keep the run's log readable."""
    loggers = [logging.getLogger(name) for name in ("tensorflow", "absl")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels):
            logger.setLevel(level)


class ScoringModule(tf.Module):
    """The trained model, its scorer and calibration behind explicit input signatures."""

    def __init__(self, model, config, calibration, normalization, sample_shape):
        super().__init__(name="tfgad")
        self.model = model
        self.sample_shape = tuple(int(d) for d in sample_shape)
        self.calibration = calibration
        self.normalization = normalization
        self.seed = tf.constant([config.seed, 0], tf.int32)
        # The same scorers as --mode=detect, so that both compute the same thing, built with
        # XLA off: TF Serving runs plain graphs.
        plain = config.copy_and_resolve_references()
        plain.search.jit_compile = "false"
        self.scorer = scorer_lib.from_config(plain, model)
        self.searcher = self.scorer.searcher(plain)  # the latent_search signature's
        self.context = rhythm.channels(config)  # context channels the networks do not see
        self.map_smoothing = float(config.detection.map_smoothing)
        # Tracked, so that the save holds the searches' own networks (the folded generators).
        unique = {id(n): n for n in self.scorer.networks() + self.searcher.networks()}
        self.search_networks = list(unique.values())
        # The concrete shape goes into the signature's metadata ([-1, 64, 1]), which clients
        # and TF Serving's model metadata read; _prepare still checks what a caller sends.
        x_spec = tf.TensorSpec((None,) + self.sample_shape, tf.float32, name="x")
        self.by_record = record_scoring.is_record_normalized(calibration)
        if self.by_record:
            columns = len(calibration["components"])
            base = [tf.TensorSpec([None, columns], tf.float32, name=n)
                    for n in ("record_location", "record_scale")]
            self.serving_default = tf.function(self._serve_with_baseline,
                                               input_signature=[x_spec, *base])
            self.score_without_baseline = tf.function(self._serve_globally,
                                                      input_signature=[x_spec])
            self.record_baseline = tf.function(self._record_baseline, input_signature=[
                tf.TensorSpec((None, None) + self.sample_shape, tf.float32, name="beats")])
        else:
            self.serving_default = tf.function(self._serve, input_signature=[x_spec])
        self.score_components = tf.function(self._components, input_signature=[x_spec])
        self.latent_search = tf.function(self._latent_search, input_signature=[x_spec])
        self.generate = tf.function(
            lambda z: {"x": model.generator(z, training=False)},
            input_signature=[tf.TensorSpec([None, model.prior.latent_dim], tf.float32, name="z")])
        if model.encoder is not None:
            self.encode = tf.function(lambda x: {"z": model.encode(rhythm.signal_part(
                                          self._prepare(x), self.context))},
                                      input_signature=[x_spec])

    def signatures(self) -> dict:
        names = ["serving_default", "score_components", "latent_search", "generate"]
        if self.by_record:
            names += ["score_without_baseline", "record_baseline"]
        if self.model.encoder is not None:
            names.append("encode")
        return {n: getattr(self, n).get_concrete_function() for n in names}

    def _prepare(self, x):
        """Checks x (rank, sample shape, finite values), then normalizes it."""
        shape_text = ", ".join(str(d) for d in self.sample_shape)
        rank = len(self.sample_shape) + 1
        rank_ok = tf.equal(tf.rank(x), rank)
        shape_ok = tf.cond(rank_ok, lambda: tf.reduce_all(
            tf.equal(tf.shape(x)[1:], self.sample_shape)), lambda: tf.constant(False))
        checks = [
            tf.debugging.Assert(rank_ok, [f"x must have rank {rank}: [batch, {shape_text}]; "
                                          "got rank", tf.rank(x)]),
            tf.debugging.Assert(tf.logical_or(tf.logical_not(rank_ok), shape_ok),
                                [f"each sample must have shape [{shape_text}]; got x of shape",
                                 tf.shape(x)]),
        ]
        # The checks run before anything reads x: a bad shape must fail here, with this text.
        with tf.control_dependencies(checks):
            x = tf.identity(x)
        with tf.control_dependencies([tf.debugging.Assert(
                tf.reduce_all(tf.math.is_finite(x)),
                ["x holds NaN or inf values; send finite numbers"])]):
            x = tf.identity(x)
        x = tf.ensure_shape(x, (None,) + self.sample_shape)
        return normalization_lib.apply_tf(self.normalization, x)

    def _latent_search(self, x):
        return self.searcher.find(self._prepare(x), seed=self.seed)

    def _components(self, x, with_map: bool = True):
        """The scorer's outputs on x, and its anomaly map unless with_map is False (a record
        baseline reads the components of a window of beats, never their maps)."""
        prepared = self._prepare(x)
        out = self.scorer(prepared, seed=self.seed)
        for key in SEARCH_OUTPUTS:  # the latent_search signature's, not score components
            out.pop(key, None)
        if with_map:
            out[maps.OUTPUT] = maps.residual_map(rhythm.signal_part(prepared, self.context),
                                                 out["x_hat"], tf, self.map_smoothing)
        return out

    def _serve(self, x):
        return self._calibrated(self._components(x), self.calibration)

    def _serve_with_baseline(self, x, record_location, record_scale):
        baseline = (tf.cast(record_location, tf.float64), tf.cast(record_scale, tf.float64))
        return self._calibrated(self._components(x), self.calibration, baseline)

    def _serve_globally(self, x):
        """Scores against the global calibration, shifted onto the record calibration's
        threshold (as record_scoring.global_scores does offline)."""
        fallback = self.calibration["global"]
        shift = float(self.calibration["threshold"]) - float(fallback["threshold"])
        return self._calibrated(self._components(x), fallback, shift=shift)

    @staticmethod
    def _calibrated(out, calibration, baseline=None, shift=0.0):
        """The components out with the calibrated score and decision (z left out)."""
        score, is_anomaly = calibration_lib.apply_tf(calibration, out, baseline)
        if conformal.KEY in calibration:  # against its own normal scores, before any shift
            out["p_value"] = conformal.p_values_tf(score, calibration)
        out.pop("z")
        if shift:
            score = score + tf.constant(shift, tf.float32)
        out.update(score=score, is_anomaly=is_anomaly)
        return out

    def _record_baseline(self, beats):
        """The median and scaled MAD of each row's window of beats (record_context's
        robust_baseline, in TensorFlow ops): [B, W, ...] -> [B, columns] each."""
        import tensorflow_probability as tfp
        from tfgad.detection import record_context
        shape = tf.shape(beats)
        flat = tf.reshape(beats, tf.concat([[-1], shape[2:]], 0))
        out = self._components(flat, with_map=False)
        raw = tf.stack([tf.cast(out[n], tf.float64) for n in self.calibration["components"]], 1)
        raw = tf.reshape(raw, [shape[0], shape[1], len(self.calibration["components"])])
        location = tfp.stats.percentile(raw, 50.0, axis=1, interpolation="midpoint")
        spread = tfp.stats.percentile(tf.abs(raw - location[:, None]), 50.0, axis=1,
                                      interpolation="midpoint")
        scale = record_context.MAD_TO_STD * spread
        scale = tf.where(scale > 0, scale, tf.ones_like(scale))
        return {"record_location": tf.cast(location, tf.float32),
                "record_scale": tf.cast(scale, tf.float32)}


def _record_metadata(calibration: dict) -> dict:
    """How clients of a record-normalized export pass a record's baseline."""
    if not record_scoring.is_record_normalized(calibration):
        return {}
    return {"record_baseline": {"columns": list(calibration["components"]),
                                **calibration.get("stream", {})}}


def _xla_record(model) -> dict:
    """Which graph the export holds, and what this machine measured for the offline search."""
    return {"exported_graph": "plain",
            "why": "TF Serving runs plain graphs; jit_compile=auto chose per row count below",
            "measured_on_export_machine": xla_choice.choices(model.generator)}


def _check_exportable(model, calibration):
    """A model with NaN weights or a NaN calibration would serve answers that flag nothing."""
    calibration_lib.check_finite(calibration)
    models.check_finite_weights(model)


def _remove_abandoned_exports(model_dir):
    """Removes the hidden .tmp-<version>-<pid> folders of exports whose process is gone."""
    for entry in os.listdir(model_dir):
        parts = entry.split("-")
        if not (entry.startswith(".tmp-") and len(parts) == 3 and parts[2].isdigit()):
            continue
        pid = int(parts[2])
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(os.path.join(model_dir, entry), ignore_errors=True)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def target_folder(config: ml_collections.ConfigDict, base_dir: str | None = None,
                  name: str | None = None) -> str:
    """<base_dir>/<name>, by default <export.dir>/<export.name>, the name defaulting to
    <model.name>-<data.name>."""
    name = name or config.export.name or f"{config.model.name}-{config.data.name}"
    return os.path.join(base_dir or config.export.dir, name)


def _lineage_record(model: dict, prior: dict, input_description: dict, components) -> dict:
    record: dict[str, Any] = {"model": model, "prior": prior, "input": input_description}
    if components is not None:
        record["components"] = sorted(components)
    return json.loads(json.dumps(record))  # as the metadata file holds it (lists, not tuples)


def lineage(config: ml_collections.ConfigDict, sample_shape: tuple,
            components: list | None = None) -> dict:
    """What every version under one model name shares: the networks and prior, how inputs are
    made, and the outputs a client reads (when known). Training, search and calibration may
    differ between versions."""
    return _lineage_record(config.model.to_dict(), config.prior.to_dict(),
                           data.describe_input(config, sample_shape), components)


def _latest_metadata(model_dir):
    """(version, metadata) of the newest version whose metadata reads, or (None, None)."""
    versions = sorted((int(d) for d in os.listdir(model_dir) if d.isdigit()), reverse=True)
    for version in versions:
        try:
            return version, export_format.read_metadata(os.path.join(model_dir, str(version)))
        except (UserError, OSError, ValueError):
            continue
    return None, None


def check_same_model(model_dir: str, new: dict) -> None:
    """Refuses to add a version of another model under an existing name: TF Serving and
    tfgad.load serve the newest version, and a client's inputs must keep fitting it."""
    if not os.path.isdir(model_dir):
        return
    version, metadata = _latest_metadata(model_dir)
    if metadata is None:
        return
    # An export written before a field existed meant its declared default.
    config = sections.upgrade(metadata.get("config", {}))
    theirs = _lineage_record(config["model"], config["prior"], metadata.get("input"),
                             metadata.get("components", []) if "components" in new else None)
    mine_flat, theirs_flat = config_files.flatten(new), config_files.flatten(theirs)
    differences = [f"{key} {theirs_flat.get(key)!r} there, {mine_flat.get(key)!r} here"
                   for key in sorted(set(mine_flat) | set(theirs_flat))
                   if mine_flat.get(key) != theirs_flat.get(key)]
    if differences:
        shown = "; ".join(differences[:3]) + (f"; and {len(differences) - 3} more"
                                              if len(differences) > 3 else "")
        raise UserError(f"{model_dir} holds another model (version {version}: {shown}); the "
                        f"versions under one name must share the model, its inputs and outputs: "
                        f"export under a new name with --config.export.name=NAME")


def next_version(model_dir: str) -> int:
    """The next free integer version under model_dir (1 for a new model)."""
    versions = [int(d) for d in os.listdir(model_dir) if d.isdigit()] if os.path.isdir(model_dir) else []
    return max(versions, default=0) + 1


def export(model, config: ml_collections.ConfigDict, calibration: dict, normalization: dict,
           sample_shape: tuple, base_dir: str | None = None, name: str | None = None) -> str:
    """Writes the next version of the SavedModel; returns its path.

    It is written to a hidden temporary folder and renamed into place, so that TF Serving
    (which watches for integer folders) never sees a half-written version.
    """
    folder = target_folder(config, base_dir, name)
    name = os.path.basename(folder)
    _check_exportable(model, calibration)
    module = ScoringModule(model, config, calibration, normalization, sample_shape)
    signatures = module.signatures()
    components = sorted(k for k in signatures["serving_default"].structured_outputs
                        if k not in export_format.NOT_COMPONENTS)
    check_same_model(folder, lineage(config, sample_shape, components))
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UserError(f"cannot create the export folder {folder}: {e.strerror}; set "
                        "export.dir to a writable folder") from None
    _remove_abandoned_exports(folder)
    version = next_version(folder)
    tmp = os.path.join(folder, f".tmp-{version}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with _quiet_tensorflow_log():
            tf.saved_model.save(module, tmp, signatures=signatures)
        metadata = {"name": name, "version": version, "sample_shape": list(sample_shape),
                    **module.scorer.settings(), "search": module.searcher.settings()["search"],
                    "xla": _xla_record(model),
                    "calibration": calibration,
                    "normalization": normalization, "config": config.to_dict(),
                    "input": data.describe_input(config, sample_shape),
                    "components": components, "signatures": sorted(signatures),
                    **_record_metadata(calibration),
                    "inputs": {"x": [-1, *(int(d) for d in sample_shape)]}}
        io_utils.write_json(os.path.join(tmp, export_format.METADATA_PATH), metadata)
        # TF Serving replays it before it reports the version AVAILABLE (so does ours).
        warmup.write(tmp, sample_shape,
                     "score_components" if module.by_record else "serving_default")
        final = os.path.join(folder, str(version))
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


load_metadata = export_format.read_metadata
