"""tf.data input for training: the last step of the numpy-first data flow."""
import numpy as np
import tensorflow as tf


def training_dataset(x: np.ndarray, batch_size: int, seed: int) -> tf.data.Dataset:
    """Shuffled full batches of x, reshuffled every epoch, prefetched."""
    batch_size = min(batch_size, len(x))
    return (tf.data.Dataset.from_tensor_slices(x)
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))
