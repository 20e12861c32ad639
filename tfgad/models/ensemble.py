"""model.ensemble=k: k members of one family with different seeds, trained in one fit.

Ensembles of GAN detectors are among the review's levers against unstable GAN training (its
references 27 and 64): members disagree where the data is unfamiliar. Each member is a whole
model of the family (networks, optimizers, trackers) built with seed config.seed + i; the
ensemble's train_step runs every member's step on the same batch, so one fit (callbacks,
backup, resume) trains them all.

Scoring (detection.scorer.EnsembleScorer) gives each member's components as
`<component>_m<i>` plus the spread, the standard deviation of the members' residuals. Calibration
normalizes every member's columns on validation, averages them per component and combines the
averages with the spread (tfgad/score_columns.py, detection/calibration.py). The other signatures of an export
(latent search, generate, encode) use member 0.
"""
import keras
import tensorflow as tf

class Ensemble(keras.Model):
    """k trained-together members; where one model is expected, member 0 stands in."""

    def __init__(self, members: list, **kwargs):
        super().__init__(**kwargs)
        if len(members) < 2:
            raise ValueError("an ensemble needs at least two members")
        self.members = list(members)
        self.family = type(members[0])

    # What callers read of one model (plots, export, search, checks): member 0's.
    @property
    def generator(self):
        return self.members[0].generator

    @property
    def discriminator(self):
        return self.members[0].discriminator

    @property
    def encoder(self):
        return self.members[0].encoder

    @property
    def prior(self):
        return self.members[0].prior

    @property
    def sample_weighting(self):
        return None  # robust training runs with single models only (config_checks)

    def encode(self, x, training=False):
        return self.members[0].encode(x, training=training)

    def call(self, z, training=False):
        return self.members[0](z, training=training)

    def compile(self, **kwargs):
        # The members carry their own optimizers, compiled with them.
        super().compile(optimizer=None, **kwargs)

    @property
    def metrics(self):
        return [tracker for member in self.members for tracker in member.metrics]

    def build_networks(self) -> None:
        for member in self.members:
            member.build_networks()
        self(tf.zeros([1, self.prior.latent_dim]))  # Keras' own "built" (BackupAndRestore)

    def extra_epochs(self) -> int:
        return self.members[0].extra_epochs()

    def training_callbacks(self, config) -> list:
        return self.members[0].training_callbacks(config)

    def set_stage(self, stage: int) -> bool:
        """f-AnoGAN's stage, for every member; the step is retraced when it changed."""
        changed = [member.set_stage(stage) for member in self.members]  # all, not any()
        if any(changed):
            self.train_function = None
        return any(changed)

    def train_step(self, data):
        logs = {}
        for index, member in enumerate(self.members):
            for name, value in member.train_step(data).items():
                logs[f"m{index}_{name}"] = value
        return logs
