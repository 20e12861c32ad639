"""Scorers: map samples to the common dict of per-sample score components."""
from typing import Protocol

import ml_collections
import numpy as np
import tensorflow as tf

from tfgad import score_columns
from tfgad.data import rhythm
from tfgad.detection import latent_search, xla_choice
from tfgad.models import scores
from tfgad.errors import UserError, choose


def components(model, x: tf.Tensor, z: tf.Tensor, x_hat: tf.Tensor) -> dict:
    """The common score components of a batch, plus the model's own.

    Returns:
      dict residual, discrimination, feature, latent (and e.g. dxx_feature, latent_distance,
      kl, mean_norm for the models that define them), each [B].
    """
    logits_hat, features_hat = model.discriminate(x_hat, z)
    _, features = model.discriminate(x, z)
    own = model.extra_scores(x, z, x_hat)
    if set(own) != set(model.OWN_COMPONENTS):  # the contract: what the family declares
        raise ValueError(f"{type(model).__name__}.extra_scores returns {sorted(own)}, but "
                         f"OWN_COMPONENTS declares {list(model.OWN_COMPONENTS)}")
    return {
        "residual": scores.residual(x, x_hat),
        "discrimination": model.discrimination_score(logits_hat),
        "feature": scores.feature_matching(features, features_hat),
        "latent": scores.latent(z, model.prior),
        **own,
    }


class Scorer(Protocol):
    """What every scorer, and every wrapper of scorers (ensemble, rhythm context), answers;
    detection, calibration and export use it without looking inside."""

    def __call__(self, x, seed=(0, 0)) -> dict:
        """{component or diagnostic: [B]} for samples x."""

    def settings(self) -> dict:
        """What the export records of it."""

    def searcher(self, config: ml_collections.ConfigDict) -> "Scorer":
        """The scorer whose find(x, seed) runs the latent search."""

    def networks(self) -> list:
        """The networks its graphs use that the model does not hold."""


class AnoGANScorer:
    """Scores by latent search: z* = argmin d(x, G(z)), then the components at x_hat = G(z*).

    start: "random" (draws from the prior), "encoder" (E(x): refinement of an encoder's
    answer) or "amortized" (I(x), the inverse of G that model.inverse fit after training).
    """

    def __init__(self, model, search, start="random"):
        self.model, self.search, self.start = model, search, start
        self._components = tf.function(lambda x, z, x_hat: components(model, x, z, x_hat),
                                       reduce_retracing=True)
        first = {"encoder": lambda x: model.encode(x),
                 "amortized": lambda x: model.inverse(x, training=False)}.get(start)
        self._first = None if first is None else tf.function(first, reduce_retracing=True)

    def find(self, x: np.ndarray, seed: tuple = (0, 0)) -> dict:
        """The search alone: dict z, x_hat, loss, iterations (from E(x) or I(x) if so
        configured)."""
        x = tf.convert_to_tensor(x, tf.float32)
        z_init = self._first(x) if self._first is not None else None
        return self.search(x, seed=seed, z_init=z_init)

    def settings(self) -> dict:
        """What the scorer does, as recorded in metrics.json and export metadata."""
        return {"scorer": "latent_search", "init": self.start,
                "init_from_encoder": self.start == "encoder", "search": self.search.settings()}

    def searcher(self, config):
        """The scorer whose find() is the latent_search signature: this one."""
        return self

    def networks(self) -> list:
        """The networks of its graphs that the model does not hold (the folded generator)."""
        return self.search.networks()

    def __call__(self, x, seed=(0, 0)):
        x = tf.convert_to_tensor(x, tf.float32)
        found = self.find(x, seed)
        out = self._components(x, found["z"], found["x_hat"])
        out.update(z=found["z"], x_hat=found["x_hat"], search_loss=found["loss"],
                   iterations=found["iterations"])
        return out


class EncoderScorer:
    """Scores in one forward pass: z = E(x), x_hat = G(z), then the components.

    jit_compile: True, False or "auto": time plain and XLA graphs on the first batch of each
    size and keep the faster (xla_choice; on one 2-core host XLA was 3.4x faster at batch 1
    and 7 % slower at batch 512).
    """

    def __init__(self, model, jit_compile=xla_choice.AUTO):
        self.model = model
        self.jit_compile = xla_choice.parse(jit_compile)
        self._score = {False: tf.function(self._batch, reduce_retracing=True),
                       True: tf.function(self._batch, jit_compile=True, reduce_retracing=True)}

    def _batch(self, x):
        z = self.model.encode(x)
        x_hat = self.model.generator(z, training=False)
        out = components(self.model, x, z, x_hat)
        out.update(z=z, x_hat=x_hat)
        return out

    def _use_xla(self, x) -> bool:
        return xla_choice.decide(self.jit_compile, self.model.encoder, x.shape[0],
                                 lambda: (lambda: self._score[False](x),
                                          lambda: self._score[True](x)))

    def settings(self) -> dict:
        """What the scorer does, as recorded in metrics.json and export metadata."""
        return {"scorer": "encoder", **xla_choice.described(self.jit_compile, self.model.encoder)}

    def searcher(self, config):
        """An encoder family's export still offers the latent search: config's, on this model."""
        return _anogan(config, self.model)

    def networks(self) -> list:
        return []

    def __call__(self, x, seed=(0, 0)):
        x = tf.convert_to_tensor(x, tf.float32)
        return self._score[self._use_xla(x)](x)


class EnsembleScorer:
    """Scores with every member of a models.Ensemble: each member's components as
    <component>_m<i>, the members' spread (std of their residuals), and member 0's
    diagnostics (z, x_hat, ...)."""

    def __init__(self, members: list):
        self.members = members  # one scorer per member

    @property
    def first(self):
        return self.members[0]

    def settings(self) -> dict:
        return {"scorer": "ensemble", "members": len(self.members),
                "member": self.first.settings()}

    def searcher(self, config):
        """Member 0's: the latent search, generate and encode signatures are member 0's."""
        return self.first.searcher(config)

    def networks(self) -> list:
        return [n for member in self.members for n in member.networks()]

    def __call__(self, x, seed=(0, 0)):
        outs = [member(x, seed=seed) for member in self.members]
        combined = {k: v for k, v in outs[0].items() if k in scores.DIAGNOSTICS}
        for index, out in enumerate(outs):
            for name in scores.component_names(out):
                combined[score_columns.member_column(name, index)] = out[name]
        combined[score_columns.SPREAD] = tf.math.reduce_std(
            tf.stack([tf.cast(out["residual"], tf.float32) for out in outs]), axis=0)
        return combined


class ContextScorer:
    """A scorer of samples that carry context channels (data.rhythm_features): the inner
    scorer sees the signal channels, and the context's components (rr_pre, ...) are added."""

    def __init__(self, inner, context: int):
        self.inner, self.context = inner, context

    def __getattr__(self, name):  # search, model, ...: the inner scorer's
        return getattr(self.inner, name)

    def settings(self) -> dict:
        return {**self.inner.settings(), "context_channels": self.context}

    def searcher(self, config):
        return ContextScorer(self.inner.searcher(config), self.context)

    def networks(self) -> list:
        return self.inner.networks()

    def find(self, x, seed=(0, 0)) -> dict:
        return self.inner.find(rhythm.signal_part(tf.convert_to_tensor(x, tf.float32),
                                                  self.context), seed)

    def __call__(self, x, seed=(0, 0)):
        signal, values = rhythm.split(tf.convert_to_tensor(x, tf.float32), self.context)
        return {**self.inner(signal, seed=seed), **rhythm.components(values)}


def _anogan(config, model):
    if config.search.init_from_encoder and model.encoder is None:
        raise UserError(f"search.init_from_encoder needs a model with an encoder; "
                        f"{config.model.name} has none")
    if config.search.feature_weight and model.JOINT_DISCRIMINATOR:
        raise UserError(f"search.feature_weight needs an x-only discriminator; {config.model.name}'s "
                        "joint discriminator D(x, z) needs z too; set it to 0")
    start = "encoder" if config.search.init_from_encoder else config.search.init
    if start == "amortized":
        if getattr(model, "inverse", None) is None:
            raise UserError("search.init=amortized needs the inverse that model.inverse=True "
                            "fits after training; this model has none: retrain with it, or use "
                            "search.init=random")
        if not int(model.inverse_fitted.numpy()):
            raise UserError("this model's inverse was never fit (it was trained with "
                            "search.init=random and model.inverse=True?); retrain, or use "
                            "search.init=random")
    features = lambda x: model.discriminator(x, training=False)[1]  # AnoGAN's feature term
    search = latent_search.from_config(config, model.generator, model.prior, features)
    return AnoGANScorer(model, search, start)


def _encoder(config, model):
    if model.encoder is None:
        raise UserError(f"detection.scorer=encoder needs a model with an encoder; "
                        f"{config.model.name} has none; use latent_search")
    return EncoderScorer(model, config.search.jit_compile)


def _auto(config, model):
    return (_encoder if model.encoder is not None else _anogan)(config, model)


SCORERS = {"auto": _auto, "latent_search": _anogan, "encoder": _encoder}


def while_training(config: ml_collections.ConfigDict) -> ml_collections.ConfigDict:
    """A copy of config for scoring during the fit (the calibration monitor, robust
    rejection): model.inverse fits the amortized inverse only after training, so until then a
    search starts from the prior."""
    config = config.copy_and_resolve_references()
    config.search.init = "random"
    return config


def from_config(config: ml_collections.ConfigDict, model) -> Scorer:
    """The scorer that config.detection.scorer names for model (for each member of an
    ensemble, within an EnsembleScorer), each wrapped in a ContextScorer when the samples carry
    context channels (data.rhythm_features)."""
    choice = choose(SCORERS, config.detection.scorer, "detection.scorer")
    context = rhythm.channels(config)
    make = (lambda c, m: ContextScorer(choice(c, m), context)) if context else choice
    members = getattr(model, "members", None)
    if members:
        return EnsembleScorer([make(config, member) for member in members])
    return make(config, model)


def score_samples(scorer, x: np.ndarray, batch_size: int, seed: int = 0, progress=None) -> dict:
    """Scores x in batches, all with the seed (seed, 0): a sample's scores do not depend on the
    batch size (the latent search shares its starts across samples).

    Returns:
      dict of numpy arrays with a leading axis of len(x).
    """
    parts = []
    for start in range(0, len(x), batch_size):
        out = scorer(x[start:start + batch_size], seed=(seed, 0))
        parts.append({k: v.numpy() for k, v in out.items()})
        if progress:
            progress(min(start + batch_size, len(x)), len(x))
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
