"""An amortized inverse of the generator: a network I(x) ~ z fit after the GAN on its own
samples, whose I(x) starts the latent search near the answer (search.init=amortized).

The GAN families without an encoder (GAN, WGAN-GP) score by latent search from a random z,
which spends most of its steps getting near G's preimage of x. With model.inverse, such a
model holds an inverse network (the DCGAN encoder's shape); after training, with G frozen,
it is fit for model.inverse_steps steps on pairs (z, G(z)) drawn from the prior:

    loss = mean (I(G(z)) - z)^2 + mean |G(I(G(z))) - G(z)|

the first term the ziz loss of f-AnoGAN's ablation, the second the reconstruction the search
itself will judge. It never sees training data, so it cannot learn the anomalies of a
contaminated split; the search that follows still decides each sample's z.
"""
import keras
import ml_collections
import tensorflow as tf

from tfgad.models import networks

FITTED_NAME = "inverse_fitted"


def build(config: ml_collections.ConfigDict, input_shape: tuple) -> keras.Model:
    m = config.model
    return networks.build_encoder(input_shape, m.latent_dim, m.base_filters, m.num_blocks,
                                  m.kernel_size, name="inverse")


def fit(model, steps: int, batch_size: int, learning_rate: float, seed: int) -> float:
    """Fits model.inverse on generator samples with G frozen; marks it fitted. Returns the
    last step's loss."""
    inverse, generator, prior = model.inverse, model.generator, model.prior
    optimizer = keras.optimizers.Adam(learning_rate)
    optimizer.build(inverse.trainable_variables)

    @tf.function(reduce_retracing=True)
    def step(step_seed):
        z = prior.sample(batch_size, seed=step_seed)
        x = generator(z, training=False)
        with tf.GradientTape() as tape:
            # Inference mode throughout: its BatchNorm layers keep fixed statistics, so I(x)
            # is the same function in training and in search, however few the steps.
            z_hat = inverse(x, training=False)
            loss = (tf.reduce_mean(tf.square(z_hat - z))
                    + tf.reduce_mean(tf.abs(generator(z_hat, training=False) - x)))
        grads = tape.gradient(loss, inverse.trainable_variables)
        optimizer.apply_gradients(zip(grads, inverse.trainable_variables))
        return loss

    loss = tf.constant(float("nan"))
    for i in range(steps):
        loss = step(tf.constant([seed, 1000 + i], tf.int32))
    model.inverse_fitted.assign(1)
    return float(loss)
