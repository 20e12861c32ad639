"""Training extensions: what a fit gains beside the family's own train_step, as plug-ins of one
hook, so that train_lib.train composes them without knowing any of them.

An extension may ask for per-sample indices in the batches (needs_index), put a per-sample
weighting of the real batch on the model for the fit (the families' train_step reads it as
model.real_weights), add callbacks, and act after the fit on the training samples kept
(after_fit returns the samples the next extension sees).
"""
import os

import keras
import ml_collections
import numpy as np
from absl import logging

from tfgad.data.types import Samples
from tfgad.models import inverse as inverse_lib
from tfgad.training import doping, negatives, robust
from tfgad.training.robust import callback as robust_callback, outputs as robust_outputs


class TrainingExtension:
    """The hook; every method is a no-op unless an extension needs it."""
    needs_index = False

    def attach(self, model: keras.Model) -> None:
        """Before the fit."""

    def callbacks(self) -> list[keras.callbacks.Callback]:
        return []

    def after_fit(self, model: keras.Model, train_x: np.ndarray) -> np.ndarray:
        """After the fit, with the (signal part of the) training samples the extensions before
        it kept; returns the samples kept for the next."""
        return train_x


class RobustTraining(TrainingExtension):
    """train.robust: leaves suspected anomalies of the training split out of the real-data
    losses (tfgad/training/robust), and writes what it left out (rejected.csv, robust.json)."""
    needs_index = True

    def __init__(self, config: ml_collections.ConfigDict, workdir: str, train_split: Samples,
                 epochs: int):
        r = config.train.robust
        self.config, self.workdir, self.train_split = config, workdir, train_split
        self.state = robust.TrainingSetState(len(train_split), r.method, r.fraction, r.z_cut,
                                             r.warmup_epochs)
        self.callback = robust_callback.RobustTraining(
            self.state, config, train_split.x, os.path.join(workdir, "robust"), epochs)

    def attach(self, model):
        model.sample_weighting = self.state

    def callbacks(self):
        return [self.callback]

    def after_fit(self, model, train_x):
        summary = robust_outputs.write(self.workdir, self.state, self.train_split, self.config)
        logging.info("robust %s left out %d of %d training samples (precision %s, recall %s)",
                     self.config.train.robust.method, summary["left_out"],
                     len(self.train_split), summary["precision"], summary["recall"])
        model.sample_weighting = None  # scoring and export see the plain model
        return train_x[~self.state.left_out()]


class AmortizedInverse(TrainingExtension):
    """model.inverse: fits the inverse of G (of each ensemble member) after training, with G
    frozen, on the training samples kept and generator samples, or on generator samples alone
    (model.inverse_fit=samples); search.init=amortized starts there."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config

    def after_fit(self, model, train_x):
        fit_inverses(self.config, model, train_x)
        return train_x


class GeneratedNegativesTraining(TrainingExtension):
    """train.negatives: the discriminator (of each ensemble member) also learns to reject
    generated negatives during the fit (tfgad/training/negatives.py)."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config

    def attach(self, model):
        for member in _members(model):
            member.negatives = negatives.GeneratedNegatives(self.config.train.negatives,
                                                            member.prior)

    def after_fit(self, model, train_x):
        for member in _members(model):
            member.negatives = None  # scoring, export and later fits see the plain model
        return train_x


class TailOversampling(TrainingExtension):
    """train.doping: after the fit, a few epochs more with generated samples of the edge of
    the training codes' distribution added as normal (tfgad/training/doping.py)."""

    def __init__(self, config: ml_collections.ConfigDict):
        self.config = config

    def after_fit(self, model, train_x):
        added = doping.oversample_tail(model, train_x, self.config)
        logging.info("tail oversampling: %d edge samples added for %d epochs", added,
                     self.config.train.doping.epochs)
        return train_x


class GeneratorAverage(TrainingExtension):
    """train.ema_momentum: the generator's optimizer kept a moving average of the generator's
    (and encoder's) weights over the steps (Keras' use_ema, so it is backed up with the
    optimizer); after the fit the average replaces the last weights."""

    def after_fit(self, model, train_x):
        for member in _members(model):
            member.g_optimizer.finalize_variable_values(member.generator_variables())
        return train_x


def _members(model) -> list:
    return getattr(model, "members", None) or [model]


def fit_inverses(config: ml_collections.ConfigDict, model, train_x: np.ndarray) -> None:
    """AmortizedInverse's fit, also for a model trained elsewhere (benchmarks)."""
    m = config.model
    data = train_x if m.inverse_fit == "data" else None
    for index, member in enumerate(_members(model)):
        if getattr(member, "inverse", None) is not None:
            loss = inverse_lib.fit(member, m.inverse_steps, config.train.batch_size,
                                   m.inverse_learning_rate, config.seed + index, data)
            logging.info("inverse of the generator fit on %s: %d steps, last loss %.4f",
                         m.inverse_fit, m.inverse_steps, loss)


def for_config(config: ml_collections.ConfigDict, workdir: str, train_split: Samples,
               epochs: int) -> list[TrainingExtension]:
    """The extensions config asks for, in the order their after_fit runs."""
    plugins: list[TrainingExtension] = []
    if config.train.robust.method != "none":
        plugins.append(RobustTraining(config, workdir, train_split, epochs))
    if config.train.ema_momentum > 0:  # the averaged weights are what later steps start from
        plugins.append(GeneratorAverage())
    # Tail oversampling trains on after the fit, so it comes before the negatives leave.
    if config.train.doping.fraction > 0:
        plugins.append(TailOversampling(config))
    if config.train.negatives.kind != "none":
        plugins.append(GeneratedNegativesTraining(config))
    if config.model.inverse:
        plugins.append(AmortizedInverse(config))
    return plugins
