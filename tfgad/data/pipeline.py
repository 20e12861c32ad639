"""tf.data input for training: the last step of the numpy-first data flow."""
import numpy as np
import tensorflow as tf


def training_dataset(x: np.ndarray, batch_size: int, seed: int,
                     with_index: bool = False) -> tf.data.Dataset:
    """Shuffled full batches of x, reshuffled every epoch, prefetched.

    Under a multi-worker strategy Keras shards it by element: every worker shuffles alike (the
    same seed) and keeps its replicas' rows of each global batch.

    with_index: batches are (x, index) with each sample's index into x (robust training
    keeps per-sample state by it).
    """
    batch_size = min(batch_size, len(x))
    elements = (x, np.arange(len(x), dtype=np.int32)) if with_index else x
    options = tf.data.Options()
    # In-memory data has no files to shard by: say so, instead of Keras trying FILE first.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return (tf.data.Dataset.from_tensor_slices(elements)
            .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE)
            .with_options(options))
