"""The training loop: a model fit on the training split (resumable, on one device or a cluster),
with the training extensions the config asks for."""
import hashlib
import os

import ml_collections
import numpy as np
import tensorflow as tf
from absl import logging

from tfgad import io_utils, models, priors
from tfgad.data import pipeline, rhythm, splits as split_lib
from tfgad.data.types import Samples
from tfgad.detection import xla_choice
from tfgad.errors import UserError
from tfgad.models.base import AdversarialModel
from tfgad.training import callbacks, cluster, extensions, xla_training
from tfgad.training import workdir as workdir_lib

WEIGHTS_FILE = workdir_lib.WEIGHTS_FILE


def build_model(config: ml_collections.ConfigDict, input_shape: tuple,
                strategy: str = "default") -> AdversarialModel:
    """The model of config.model in the scope of train.strategy=strategy.

    Training uses config.train.strategy; scoring and export use one device (default).
    """
    with cluster.strategy(strategy).scope():
        return models.build(config, input_shape, priors.from_config(config))


def weights_digest(model: AdversarialModel) -> str:
    """SHA-256 of every weight's bytes: equal on workers that trained in sync."""
    digest = hashlib.sha256()
    for variable in model.weights:
        digest.update(np.ascontiguousarray(variable.numpy()).tobytes())
    return digest.hexdigest()


def _check_batch_splits(config: ml_collections.ConfigDict, train_split: Samples) -> None:
    """Every replica needs the same number of rows per step (models.replicas.own_rows)."""
    replicas = cluster.strategy(config.train.strategy).num_replicas_in_sync
    batch = min(config.train.batch_size, len(train_split))
    if batch % replicas:
        raise UserError(f"train.batch_size={batch} does not split over the {replicas} replicas of "
                        f"train.strategy={config.train.strategy}; use a multiple of {replicas}")


def train(config: ml_collections.ConfigDict, workdir: str, train_split: Samples,
          val_split: Samples | None = None) -> AdversarialModel:
    """Fits the model on the training split; resumes from workdir/backup after a crash.

    val_split feeds the calibration monitor (detection.monitor_every), if that is on. The
    training extensions config asks for (tfgad/training/extensions.py: robust training, the
    amortized inverse) plug in around the fit.
    """
    _check_batch_splits(config, train_split)
    model = build_model(config, train_split.x.shape[1:], config.train.strategy)
    workdir_lib.record_training_split(workdir, train_split.x)
    epochs = config.train.epochs + model.extra_epochs()
    plugins = extensions.for_config(config, workdir, train_split, epochs)
    # The networks model the signal; context channels (rhythm) only enter the score.
    train_x = rhythm.signal_part(train_split.x, rhythm.channels(config))
    dataset = pipeline.training_dataset(train_x, config.train.batch_size, config.seed,
                                        with_index=any(p.needs_index for p in plugins))
    monitor = None
    if val_split is not None and config.detection.monitor_every:
        monitor = split_lib.stratified_subset(val_split, config.detection.monitor_samples,
                                              config.seed)
    logging.info("training %s for %d epochs on %d samples (extensions: %s)", config.model.name,
                 config.train.epochs, len(train_split),
                 ", ".join(type(p).__name__ for p in plugins) or "none")
    for plugin in plugins:
        plugin.attach(model)
    _choose_xla(config, model, train_x, epochs, plugins)
    model.fit(dataset, epochs=epochs, verbose=config.train.verbose, shuffle=False,
              callbacks=[c for p in plugins for c in p.callbacks()]
              + callbacks.standard(config, workdir, train_x[:6], monitor)
              + model.training_callbacks(config))
    models.check_finite_weights(model)
    kept = train_x
    for plugin in plugins:
        kept = plugin.after_fit(model, kept)
    # Keras wants the .weights.h5 suffix, so the temporary name keeps it.
    tmp = os.path.join(workdir, ".tmp-" + WEIGHTS_FILE)
    model.save_weights(tmp)
    os.replace(tmp, os.path.join(workdir, WEIGHTS_FILE))
    logging.info("trained weights: sha256 %s", weights_digest(model))
    return model


def _choose_xla(config, model, train_x, epochs, plugins) -> None:
    """train.jit_compile on the model (tfgad/training/xla_training.py). The probe runs on a
    batch of the training samples, not from the dataset (which would move its shuffling); a
    fit that feeds sample indices (robust training keeps per-sample state) is not probed."""
    setting = config.train.jit_compile
    if any(p.needs_index for p in plugins) and xla_choice.parse(setting) == xla_choice.AUTO:
        setting = False
    batch = min(config.train.batch_size, len(train_x))
    replicas = cluster.strategy(config.train.strategy).num_replicas_in_sync
    xla_training.apply(model, setting, tf.constant(train_x[:batch]),
                       epochs * (len(train_x) // batch), replicas)


def load_trained(config: ml_collections.ConfigDict, workdir: str,
                 input_shape: tuple) -> AdversarialModel:
    path = os.path.join(workdir, WEIGHTS_FILE)
    if not os.path.exists(path):
        raise UserError(f"no trained model at {path}; run --mode=train (or all) with "
                        f"--workdir={workdir} first")
    model = build_model(config, input_shape)
    model.load_weights(path)
    return model


def train_as_cluster_member(config: ml_collections.ConfigDict, workdir: str, task, splits,
                             norm) -> AdversarialModel | None:
    """Trains as this process's task: the chief writes the workdir; another worker trains in
    step with it, writing to a temporary folder that it removes (its outputs duplicate the
    chief's). Returns the trained model on one device, for scoring and export."""
    folder = cluster.output_folder(workdir, task)
    try:
        cluster.copy_backup(workdir, folder, workdir_lib.BACKUP_DIR)
        io_utils.write_json(os.path.join(folder, "normalization.json"), norm)
        model = train(config, folder, splits["train"], splits["val"])
    finally:
        cluster.release_output_folder(folder, workdir)
    if config.train.strategy == "default":
        return model
    # Scoring and export run on one device: the weights, reloaded outside the strategy.
    return load_trained(config, workdir, splits["train"].x.shape[1:]) if task.is_chief else None
