"""What every tfgad adversarial model shares: networks, prior, seeds, optimizers, trackers."""
import keras
import tensorflow as tf


class AdversarialModel(keras.Model):
    """Base class; subclasses define train_step and discrimination_score.

    Holds a generator z -> x, a discriminator x -> (logits, features) and a latent prior.
    """

    def __init__(self, generator, discriminator, prior, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.prior = generator, discriminator, prior
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {}

    def add_trackers(self, *names):
        for name in names:
            self.trackers[name] = keras.metrics.Mean(name=name)

    def compile(self, d_optimizer, g_optimizer, **kwargs):
        # No optimizer of Keras' own: the two below are the model's, and an unused default
        # would be saved in the weights and mismatch on restore.
        super().compile(optimizer=None, **kwargs)
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        # Built now so that BackupAndRestore can load their state before the first step.
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_trackers(self, **values):
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def build_networks(self):
        """Calls every network once so that weights exist (needed before loading them)."""
        z = tf.zeros([1, self.prior.latent_dim])
        self.discriminator(self(z))

    def sample_latent(self, n):
        return self.prior.sample(n, seed=self.next_seed())

    def next_seed(self):
        return tf.cast(self.seed_generator.next(), tf.int32)

    @staticmethod
    def real_batch(data):
        """The x of a batch given as x, (x,) or (x, y)."""
        return data[0] if isinstance(data, (tuple, list)) else data

    def discrimination_score(self, logits):
        """Per-example anomaly score [B] from discriminator outputs [B, 1]: high = looks fake."""
        raise NotImplementedError
