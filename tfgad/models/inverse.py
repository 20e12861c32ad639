"""An amortized inverse of the generator: a network I(x) ~ z fit after the GAN with G frozen,
whose I(x) starts the latent search near the answer (search.init=amortized).

The GAN families without an encoder (GAN, WGAN-GP) score by latent search from a random z,
which spends most of its steps getting near G's preimage of x. With model.inverse, such a
model holds an inverse network (the DCGAN encoder's shape); after training, with G frozen,
it is fit for model.inverse_steps steps. model.inverse_fit says on what:

  data     (default) on the training samples x and on pairs (z, G(z)) from the prior:
               loss = mean |G(I(x)) - x| + mean (I(G(z)) - z)^2
           f-AnoGAN's izi loss (the reconstruction the search itself judges, on the data it
           will meet) with its ziz term, which keeps I a real inverse of G.
  samples  on pairs (z, G(z)) alone: mean (I(G(z)) - z)^2 + mean |G(I(G(z))) - G(z)|; it
           never sees training data.

Measured on the synthetic ECG (BENCHMARKS.md, time to quality): a start fit on data is far
closer (normal residual 0.14 before any step, against 0.23 for samples), and 25 steps from
it beat 300 from the prior. Like the GAN itself, a data fit learns what the training split
holds; with robust training it skips the samples the robust method left out.
"""
import keras
import ml_collections
import numpy as np
import tensorflow as tf

from tfgad.models import networks

FITTED_NAME = "inverse_fitted"


def build(config: ml_collections.ConfigDict, input_shape: tuple) -> keras.Model:
    m = config.model
    return networks.build_encoder(input_shape, m.latent_dim, m.base_filters, m.num_blocks,
                                  m.kernel_size, name="inverse")


def fit(model, steps: int, batch_size: int, learning_rate: float, seed: int,
        data: np.ndarray | None = None) -> float:
    """Fits model.inverse with G frozen, on data (the training samples) and generator samples,
    or on generator samples alone when data is None; marks it fitted. Returns the last
    step's loss."""
    inverse, generator, prior = model.inverse, model.generator, model.prior
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(inverse.trainable_variables)
    samples = None if data is None else tf.constant(data, tf.float32)

    @tf.function(reduce_retracing=True)
    def step(step_seed):
        z = prior.sample(batch_size, seed=step_seed)
        x_fake = generator(z, training=False)
        if samples is not None:
            index = tf.random.stateless_uniform([batch_size], step_seed + 1, 0,
                                                tf.shape(samples)[0], tf.int32)
            x_real = tf.gather(samples, index)
        with tf.GradientTape() as tape:
            # Inference mode throughout: its BatchNorm layers keep fixed statistics, so I(x)
            # is the same function in training and in search, however few the steps.
            z_hat = inverse(x_fake, training=False)
            loss = tf.reduce_mean(tf.square(z_hat - z))
            if samples is None:
                loss += tf.reduce_mean(tf.abs(generator(z_hat, training=False) - x_fake))
            else:
                x_hat = generator(inverse(x_real, training=False), training=False)
                loss += tf.reduce_mean(tf.abs(x_hat - x_real))
        grads = tape.gradient(loss, inverse.trainable_variables)
        optimizer.apply_gradients(zip(grads, inverse.trainable_variables))
        return loss

    loss = tf.constant(float("nan"))
    for i in range(steps):
        loss = step(tf.constant([seed, 1000 + i], tf.int32))
    model.inverse_fitted.assign(1)
    return float(loss)
