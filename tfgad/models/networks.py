"""DCGAN-style convolutional networks, 1-D for series (N, L, C) and 2-D for images (N, H, W, C)."""
import math

import keras
import tensorflow as tf
from keras import layers

from tfgad.errors import UserError
from tfgad.models import replicas


def _ops(rank):
    """Layer classes for series (rank 3 data) or images (rank 4)."""
    if rank == 3:
        return layers.Conv1D, layers.Conv1DTranspose, layers.Cropping1D
    if rank == 4:
        return layers.Conv2D, layers.Conv2DTranspose, layers.Cropping2D
    raise UserError(f"samples of shape {rank - 1}-D are not supported; "
                    "use (L, C) series or (H, W, C) images")


@keras.saving.register_keras_serializable(package="tfgad")
class BatchNormalization(layers.BatchNormalization):
    """BatchNormalization by the statistics of the global batch, in one all-reduce per call.

    Keras' synchronized=True all-reduces the sum, the sum of squares and the count one by one:
    three round trips between workers per call, and they made a two-worker GAN step twice as
    slow as without them. Packed into one, the step does one (and one in the backward pass).
    The class keeps Keras' name, so that its layers get the same automatic names (and weight
    file entries) as the plain layer's: weights trained on N replicas load on one device.
    """

    def _moments(self, inputs, mask):
        if mask is not None or replicas.count() == 1:
            return super()._moments(inputs, mask)
        axes = self._reduction_axes
        local_sum = tf.reduce_sum(inputs, axes)
        local_count = tf.cast(tf.size(inputs) // tf.size(local_sum), inputs.dtype)
        total, squares, count = replicas.global_sum(
            [local_sum, tf.reduce_sum(tf.square(inputs), axes), local_count])
        mean = total / count
        # var = E[x^2] - E[x]^2, as Keras' synchronized moments.
        return mean, tf.maximum(squares / count - tf.square(mean), 0.0)


def batch_norm() -> layers.BatchNormalization:
    """BatchNormalization; built under a strategy with several replicas, it normalizes by the
    statistics of the global batch, as one device would with that batch."""
    if replicas.count() > 1:
        return BatchNormalization(momentum=0.9)
    return layers.BatchNormalization(momentum=0.9)


def _spatial(input_shape):
    return tuple(input_shape[:-1])


def build_generator(input_shape: tuple, latent_dim: int, base_filters: int = 32,
                    num_blocks: int = 3, kernel_size: int = 5, output_activation: str = "linear",
                    name: str = "generator") -> keras.Model:
    """z [B, latent_dim] -> x [B, *input_shape].

    A dense layer makes a small feature map, num_blocks stride-2 transposed convolutions double
    it, and a final crop trims the result to the data's size, so that any length works.
    """
    conv, conv_t, crop = _ops(len(input_shape) + 1)
    spatial, channels = _spatial(input_shape), input_shape[-1]
    factor = 2 ** num_blocks
    start = tuple(math.ceil(s / factor) for s in spatial)
    filters = base_filters * 2 ** (num_blocks - 1)
    z = keras.Input((latent_dim,), name="z")
    h = layers.Dense(math.prod(start) * filters, use_bias=False)(z)
    h = batch_norm()(h)
    h = layers.ReLU()(h)
    h = layers.Reshape(start + (filters,))(h)
    for block in range(num_blocks):
        filters = max(base_filters * 2 ** (num_blocks - 2 - block) if block < num_blocks - 1
                      else base_filters // 2, 1)
        h = conv_t(filters, kernel_size, strides=2, padding="same", use_bias=False)(h)
        h = batch_norm()(h)
        h = layers.ReLU()(h)
    h = conv(channels, kernel_size, padding="same", activation=output_activation)(h)
    excess = tuple(s * factor - d for s, d in zip(start, spatial))
    if any(excess):
        h = crop(tuple((0, e) for e in excess) if len(excess) > 1 else (0, excess[0]))(h)
    return keras.Model(z, h, name=name)


def build_discriminator(input_shape: tuple, base_filters: int = 32, num_blocks: int = 3,
                        kernel_size: int = 5, spectral_norm: bool = False,
                        extra_input_dim: int = 0, name: str = "discriminator") -> keras.Model:
    """x [B, *input_shape] (and optionally z [B, extra_input_dim]) -> (logits [B, 1], features [B, F]).

    The features are the flattened last convolutional block, used for feature matching.
    Spectral normalization wraps every convolution and the output layer when asked for.
    """
    conv, _, _ = _ops(len(input_shape) + 1)
    wrap = layers.SpectralNormalization if spectral_norm else (lambda layer: layer)
    x = keras.Input(input_shape, name="x")
    inputs = [x]
    h = x
    for block in range(num_blocks):
        h = wrap(conv(base_filters * 2 ** block, kernel_size, strides=2, padding="same"))(h)
        h = layers.LeakyReLU(0.2)(h)
    features = layers.Flatten(name="features")(h)
    h = features
    if extra_input_dim:
        # A joint hidden layer: without it D(x, z) = a(x) + b(z) could judge only the two
        # marginals, never whether z belongs to x, and the BiGAN encoder would learn nothing.
        units = base_filters * 2 ** (num_blocks - 1)
        z = keras.Input((extra_input_dim,), name="z")
        inputs.append(z)
        hz = layers.LeakyReLU(0.2)(wrap(layers.Dense(units))(z))
        h = layers.Concatenate()([h, hz])
        h = layers.LeakyReLU(0.2)(wrap(layers.Dense(units))(h))
    logits = wrap(layers.Dense(1, name="logits"))(h)
    return keras.Model(inputs if extra_input_dim else x, [logits, features], name=name)


def build_encoder(input_shape: tuple, latent_dim: int, base_filters: int = 32,
                  num_blocks: int = 3, kernel_size: int = 5, outputs: int = 1,
                  name: str = "encoder") -> keras.Model:
    """x [B, *input_shape] -> [B, outputs * latent_dim] (a VAE asks for 2: mean and log-variance).

    The mirror of the discriminator's convolutions, with batch normalization as in DCGAN.
    """
    conv, _, _ = _ops(len(input_shape) + 1)
    x = keras.Input(input_shape, name="x")
    h = x
    for block in range(num_blocks):
        h = conv(base_filters * 2 ** block, kernel_size, strides=2, padding="same", use_bias=False)(h)
        if block:
            h = batch_norm()(h)
        h = layers.LeakyReLU(0.2)(h)
    h = layers.Flatten()(h)
    return keras.Model(x, layers.Dense(outputs * latent_dim, name="z")(h), name=name)


def build_latent_discriminator(input_dim: int, units: int = 64, spectral_norm: bool = False,
                               name: str = "latent_discriminator") -> keras.Model:
    """v [B, input_dim] -> (logits [B, 1], features [B, units]), an MLP (ALAD's D_zz)."""
    wrap = layers.SpectralNormalization if spectral_norm else (lambda layer: layer)
    v = keras.Input((input_dim,), name="v")
    h = layers.LeakyReLU(0.2)(wrap(layers.Dense(units))(v))
    features = layers.LeakyReLU(0.2, name="features")(wrap(layers.Dense(units))(h))
    return keras.Model(v, [wrap(layers.Dense(1, name="logits"))(features), features], name=name)
