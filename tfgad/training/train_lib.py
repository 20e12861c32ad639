"""The training loop: a model fit on the training split (resumable, on one device or a cluster),
and the subsets that detection scores (validation, test, f-AnoGAN's reference outputs)."""
import hashlib
import os

import ml_collections
import numpy as np
from absl import logging

from tfgad import io_utils, models, priors
from tfgad.data import pipeline, rhythm, splits as split_lib
from tfgad.data.types import Samples
from tfgad.detection import scorer as scorer_lib
from tfgad.errors import UserError
from tfgad.models import inverse as inverse_lib
from tfgad.models.base import AdversarialModel
from tfgad.training import callbacks, cluster, robust
from tfgad.training import workdir as workdir_lib
from tfgad.training.robust import callback as robust_callback, outputs as robust_outputs

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

    val_split feeds the calibration monitor (detection.monitor_every), if that is on.
    With train.robust.method other than none, robust training leaves suspected anomalies of
    the training split out and writes what it left out (rejected.csv, robust.json).
    """
    _check_batch_splits(config, train_split)
    model = build_model(config, train_split.x.shape[1:], config.train.strategy)
    workdir_lib.record_training_split(workdir, train_split.x)
    epochs = config.train.epochs + model.extra_epochs()
    robust_state, first_callbacks = None, []
    r = config.train.robust
    if r.method != "none":
        robust_state = robust.TrainingSetState(len(train_split), r.method, r.fraction, r.z_cut,
                                               r.warmup_epochs)
        model.robust = robust_state
        first_callbacks.append(robust_callback.RobustTraining(
            robust_state, config, train_split.x, os.path.join(workdir, "robust"), epochs))
    # The networks model the signal; context channels (rhythm) only enter the score.
    train_x = rhythm.signal_part(train_split.x, rhythm.channels(config))
    dataset = pipeline.training_dataset(train_x, config.train.batch_size, config.seed,
                                        with_index=robust_state is not None)
    real = train_x[:6]
    monitor = None
    if val_split is not None and config.detection.monitor_every:
        monitor = split_lib.stratified_subset(val_split, config.detection.monitor_samples,
                                              config.seed)
    logging.info("training %s for %d epochs on %d samples (robust: %s)", config.model.name,
                 config.train.epochs, len(train_split), r.method)
    model.fit(dataset, epochs=epochs, verbose=config.train.verbose, shuffle=False,
              callbacks=first_callbacks + callbacks.standard(config, workdir, real, monitor)
              + model.training_callbacks(config))
    models.check_finite_weights(model)
    kept = train_x if robust_state is None else train_x[~robust_state.left_out()]
    fit_inverses(config, model, kept)
    if robust_state is not None:
        summary = robust_outputs.write(workdir, robust_state, train_split, config)
        logging.info("robust %s left out %d of %d training samples (precision %s, recall %s)",
                     r.method, summary["left_out"], len(train_split), summary["precision"],
                     summary["recall"])
        model.robust = None  # scoring and export see the plain model
    # Keras wants the .weights.h5 suffix, so the temporary name keeps it.
    tmp = os.path.join(workdir, ".tmp-" + WEIGHTS_FILE)
    model.save_weights(tmp)
    os.replace(tmp, os.path.join(workdir, WEIGHTS_FILE))
    logging.info("trained weights: sha256 %s", weights_digest(model))
    return model


def fit_inverses(config: ml_collections.ConfigDict, model, train_x: np.ndarray) -> None:
    """Fits the amortized inverse of G (model.inverse) of the model, or of each ensemble
    member, after training, with G frozen: on train_x (the signal part of the training
    samples kept) and generator samples, or on generator samples alone
    (model.inverse_fit=samples)."""
    m = config.model
    kind = m.inverse_fit
    data = train_x if kind == "data" else None
    for index, member in enumerate(getattr(model, "members", None) or [model]):
        if getattr(member, "inverse", None) is not None:
            loss = inverse_lib.fit(member, m.inverse_steps, config.train.batch_size,
                                   m.inverse_learning_rate, config.seed + index, data)
            logging.info("inverse of the generator fit on %s: %d steps, last loss %.4f",
                         kind, m.inverse_steps, loss)


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
                             norm) -> AdversarialModel:
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


def logged_progress(name: str):
    """A progress callback(done, total) that logs the scoring of one split."""
    return lambda done, total: logging.info("scoring %s: %d/%d samples", name, done, total)


def validation_subset(config: ml_collections.ConfigDict, val: Samples) -> Samples:
    """The validation samples that detection scores: a detection.max_samples stratified subset."""
    return split_lib.stratified_subset(val, config.detection.max_samples, config.seed)


def scored_subsets(config: ml_collections.ConfigDict, splits: dict) -> tuple:
    """The (val, test) samples that detection scores: detection.max_samples stratified subsets."""
    return (validation_subset(config, splits["val"]),
            split_lib.stratified_subset(splits["test"], config.detection.max_samples,
                                        config.seed + 1))


def reference_outputs(config: ml_collections.ConfigDict, scorer, train_split: Samples):
    """The scorer's outputs on normal train samples for f-AnoGAN's centering
    (detection.center_discrimination), or None when it is off."""
    if not config.detection.center_discrimination:
        return None
    reference = split_lib.stratified_subset(train_split, config.detection.reference_samples,
                                            config.seed)
    return scorer_lib.score_samples(scorer, reference.x, config.detection.batch_size, config.seed,
                                    logged_progress("train reference"))
