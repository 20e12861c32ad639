"""What every tfgad adversarial model shares: networks, prior, seeds, optimizers, trackers."""
import keras
import ml_collections
import tensorflow as tf

from tfgad.models import losses, networks, replicas, scores


def adam(config: ml_collections.ConfigDict, which: str) -> keras.optimizers.Optimizer:
    """Adam of the generator ("g") or discriminator ("d"); the generator's keeps an exponential
    moving average of its weights where train.ema_momentum > 0 (swapped in after the fit by
    tfgad/training/extensions.py's GeneratorAverage)."""
    t = config.train
    rate = t.g_learning_rate if which == "g" else t.d_learning_rate
    ema = which == "g" and t.ema_momentum > 0
    return keras.optimizers.Adam(rate, beta_1=t.beta_1, beta_2=t.beta_2, use_ema=ema,
                                 ema_momentum=t.ema_momentum if ema else 0.99)


def dcgan_pair(config: ml_collections.ConfigDict, input_shape: tuple,
               **discriminator_kwargs) -> tuple:
    """The DCGAN generator and discriminator of config.model for samples of input_shape."""
    m = config.model
    generator = networks.build_generator(input_shape, m.latent_dim, m.base_filters, m.num_blocks,
                                         m.kernel_size, m.output_activation)
    discriminator = networks.build_discriminator(input_shape, m.base_filters, m.num_blocks,
                                                 m.kernel_size, m.spectral_norm,
                                                 **discriminator_kwargs)
    return generator, discriminator


def encoder_for(config: ml_collections.ConfigDict, input_shape: tuple, outputs: int = 1,
                name: str = "encoder") -> keras.Model:
    """The encoder x -> z (outputs * latent_dim values) of config.model for samples of input_shape."""
    m = config.model
    return networks.build_encoder(input_shape, m.latent_dim, m.base_filters, m.num_blocks,
                                  m.kernel_size, outputs, name=name)


class AdversarialModel(keras.Model):
    """Base class; subclasses define train_step, and OWN_COMPONENTS with extra_scores.

    Holds a generator z -> x, a discriminator x -> (logits, features), a latent prior and,
    for the inverse-mapping families, an encoder x -> z.

    The score contract: a scorer returns scores.COMMON_COMPONENTS for every family, plus the
    family's OWN_COMPONENTS, computed by extra_scores. This class attribute is the one place
    a family declares them; config checks and calibration read it from here.
    """

    OWN_COMPONENTS: tuple[str, ...] = ()
    # Whether the discriminator judges (x, z) pairs (BiGAN, ALAD): no x-only features then.
    JOINT_DISCRIMINATOR = False
    # Whether the family learns an encoder x -> z (all but GAN and WGAN-GP); those without
    # one score by latent search.
    HAS_ENCODER = False
    # Whether train_step adds real_penalty (train.r1_gamma) to the discriminator's loss: the
    # families with an x-only BCE discriminator (a Wasserstein critic has its gradient penalty).
    REAL_PENALTY = False
    # The family's descriptor, beside the attributes above: configs, scripts and tests derive
    # their per-family lists from it, so a new family touches its model file and the MODELS
    # registry only.
    CONFIG = ""  # its shipped config, tfgad/configs/<CONFIG>.py
    # Its own config section model.<name>, if any, is declared in tfgad/sections/model.py.
    # What scripts/tune.py searches beyond the common fields: {dotted field: (low, high)},
    # log-uniform.
    TUNING: dict[str, tuple[float, float]] = {}
    # Fields counting the epochs of a later training stage, which the tuner keeps at half the
    # train.epochs it tries (f-AnoGAN's encoder stage scales with its GAN stage).
    STAGE_EPOCHS: tuple[str, ...] = ()

    @classmethod
    def score_components(cls) -> tuple:
        """Every score component this family's scorers return, common ones first."""
        return scores.COMMON_COMPONENTS + tuple(cls.OWN_COMPONENTS)

    def __init__(self, generator, discriminator, prior, encoder=None, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.prior = generator, discriminator, prior
        self.encoder = encoder
        # An amortized inverse of G for the latent search's start (model.inverse; see
        # tfgad/models/inverse.py), set by models.build; None otherwise.
        self.inverse = None
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {}
        # A per-sample weighting of the real batch that a training extension puts here for
        # the fit (robust training: batches then carry sample indices); None otherwise, and
        # then train_step is exactly the plain one.
        self.sample_weighting = None
        # Generated negatives the discriminator learns to reject (train.negatives), put here
        # by a training extension for the fit (tfgad/training/negatives.py); None otherwise.
        self.negatives = None
        # train.r1_gamma, set by models.build: the weight of the R1 penalty that families
        # with an x-only BCE discriminator add to its loss (real_penalty); 0: none.
        self.r1_gamma = 0.0

    @classmethod
    def from_config(cls, config: ml_collections.ConfigDict, input_shape: tuple, prior):
        """Builds the networks of config.model for samples of input_shape."""
        generator, discriminator = dcgan_pair(config, input_shape)
        return cls(generator, discriminator, prior, seed=config.seed)

    def extra_epochs(self) -> int:
        """Epochs beyond train.epochs that the model trains for (f-AnoGAN's encoder stage)."""
        return 0

    def training_callbacks(self, config: ml_collections.ConfigDict) -> list:
        """Callbacks the model's training needs (f-AnoGAN's stage switch)."""
        return []

    def add_trackers(self, *names) -> None:
        for name in names:
            self.trackers[name] = keras.metrics.Mean(name=name)

    def generator_variables(self) -> list:
        """Variables that g_optimizer updates."""
        return self.generator.trainable_variables

    def discriminator_variables(self) -> list:
        """Variables that d_optimizer updates."""
        return self.discriminator.trainable_variables

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        # No optimizer of Keras' own: the two below are the model's, and an unused default
        # would be saved in the weights and mismatch on restore.
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # Built now so that BackupAndRestore can load their state before the first step.
        self.d_optimizer.build(self.discriminator_variables())
        self.g_optimizer.build(self.generator_variables())

    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_trackers(self, **values) -> dict:
        """Adds values to the trackers; returns every tracker's result (train_step's logs)."""
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return self.tracker_results()

    def tracker_results(self) -> dict:
        results = {name: tracker.result() for name, tracker in self.trackers.items()}
        if replicas.across_workers():
            # Keras 3 reduces multi-worker logs by strategy.reduce(MEAN, v, axis=0), which
            # fails on scalars (tensorflow/tensorflow#72388); one-element vectors reduce to
            # the scalar mean over replicas, all of which hold the global-batch value.
            results = {name: tf.reshape(value, [1]) for name, value in results.items()}
        return results

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def build_networks(self) -> None:
        """Calls every network once so that weights exist (needed before loading them)."""
        z = tf.zeros([1, self.prior.latent_dim])
        x = self(z)
        self.discriminate(x, z)
        if self.encoder is not None:
            self.encode(x)

    def sample_latent(self, n: int) -> tf.Tensor:
        """n latents from the prior; in a train step on several replicas, this replica's n of
        the global batch's draw (models.replicas.own_rows), so that replicas draw apart."""
        return replicas.own_rows(lambda rows: self.prior.sample(rows, seed=self.next_seed()), n)

    def draw_rows(self, sampler, rows: tf.Tensor, *row_shape) -> tf.Tensor:
        """rows draws of shape row_shape from a keras.random sampler and the model's seed, this
        replica's share of the global batch's draw (as sample_latent)."""
        return replicas.own_rows(
            lambda n: sampler([n, *row_shape], seed=self.seed_generator), rows)

    def next_seed(self) -> tf.Tensor:
        return tf.cast(self.seed_generator.next(), tf.int32)

    @staticmethod
    def real_batch(data: bytes) -> tf.Tensor:
        """The x of a batch given as x, (x,) or (x, y)."""
        return data[0] if isinstance(data, (tuple, list)) else data

    def unpack(self, data) -> tuple:
        """(x, index): index [B] into the training split under a sample weighting, else None."""
        if self.sample_weighting is None:
            return self.real_batch(data), None
        x, index = data
        return x, index

    def real_weights(self, index, ranking: tf.Tensor):
        """Per-sample weights [B] of the real samples for the real-data losses, or None.

        ranking [B, ...]: the family's per-sample loss on real data, by which a weighting may
        rank (robust trim cuts the highest); it is read only under a sample weighting.
        """
        if self.sample_weighting is None:
            return None
        return self.sample_weighting.batch_weights(index, ranking)

    def rejection_scorer(self) -> str:
        """How robust rejection scores the training split now: a detection.scorer name
        (encoder, latent_search), or "discriminator" for discrimination_score(D(x)) alone."""
        return "encoder" if self.HAS_ENCODER else "latent_search"

    @staticmethod
    def gradients(tape, loss, variables) -> list:
        """The gradient of loss (recorded on tape) for variables, scaled for the optimizer's
        sum over replicas: losses are global-batch means on every replica (models.replicas)."""
        return replicas.for_summing(tape.gradient(loss, variables))

    @classmethod
    def minimize(cls, optimizer, tape, loss, variables) -> None:
        """One optimizer step down the gradient of loss (recorded on tape) for variables."""
        optimizer.apply_gradients(zip(cls.gradients(tape, loss, variables), variables))

    def judge_pair(self, real: tf.Tensor, fake: tf.Tensor) -> tuple:
        """(logits of real, logits of fake) from one discriminator call on both batches: the
        DCGAN discriminator has no batch normalization, so a row's logit does not depend on
        the rows beside it, and one call on 2B rows does the work of two with half the ops.
        For the families whose discriminator judges x alone."""
        logits, _ = self.discriminate(tf.concat([real, fake], axis=0), None, training=True)
        return tf.split(logits, 2, axis=0)

    def negatives_loss(self, x: tf.Tensor):
        """The discriminator's term for generated negatives of the real batch x, judged as its
        fakes are: 0.0 (nothing in the graph) without train.negatives."""
        if self.negatives is None:
            return 0.0
        negatives = tf.stop_gradient(self.negatives.draw(self, x))
        return self.negatives.weight * self.fake_term(negatives)

    def real_penalty(self, x: tf.Tensor):
        """gamma / 2 E||grad_x D(x)||^2 on the real batch x (R1, Mescheder et al. 2018): it keeps
        the discriminator flat on the data, which damps the oscillation of BCE GANs; 0.0
        (nothing in the graph) where train.r1_gamma = 0."""
        if not self.r1_gamma:
            return 0.0
        return 0.5 * self.r1_gamma * losses.r1_penalty(
            lambda real: self.discriminate(real, None, training=True)[0], x)

    def fake_term(self, x: tf.Tensor) -> tf.Tensor:
        """The discriminator's loss for judging samples x as fake (BCE; a critic overrides)."""
        z = self.encode(x, training=True) if self.JOINT_DISCRIMINATOR else None
        logits, _ = self.discriminate(x, z, training=True)
        return losses.mean(tf.nn.softplus(logits))

    def discriminate(self, x: tf.Tensor, z: tf.Tensor, training: bool = False) -> tuple:
        """(logits [B, 1], features [B, F]) for samples x whose latent code is z."""
        return self.discriminator(x, training=training)

    def encode(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        """z = E(x) [B, d] for models with an encoder."""
        if self.encoder is None:
            raise ValueError(f"{type(self).__name__} has no encoder; use latent search")
        return self.encoder(x, training=training)

    def extra_scores(self, x: tf.Tensor, z: tf.Tensor, x_hat: tf.Tensor) -> dict:
        """The family's OWN_COMPONENTS {name: [B]} for samples x, codes z and reconstructions x_hat."""
        return {}

    def discrimination_score(self, logits: tf.Tensor) -> tf.Tensor:
        """Per-example anomaly score [B] from discriminator logits [B, 1]: high = looks fake.

        BCE against 'real' for every discriminator trained with the BCE loss; a Wasserstein
        critic overrides it.
        """
        return scores.discrimination_bce(logits)
