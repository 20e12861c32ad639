"""What a train step needs to know about the replicas it runs on (tf.distribute).

Under a strategy with N replicas (MirroredStrategy's devices, MultiWorkerMirroredStrategy's
workers), train_step runs once per replica on a local batch of B rows; the global batch is
N·B. Three rules make one step on N replicas move the weights like one step on one device
with the same N·B rows:

- batch means are global: sums and counts are all-reduced across replicas (`batch_mean`,
  `global_sum`), so every replica computes the loss of the global batch;
- random draws are global: every replica draws for N·B rows from the shared seed and keeps
  its own B (`own_rows`), so replicas draw different latents and, together, the very draws
  one device would make;
- gradients are divided by N (`for_summing`): the optimizer sums them over the replicas
  (Keras' all-reduce is a SUM), and the gradient of an all-reduced sum is itself summed.

With one replica every helper is the identity, so the graph is the one without a strategy.
"""
import tensorflow as tf


def count() -> int:
    """Replicas in sync under the current strategy (1 without one)."""
    return tf.distribute.get_strategy().num_replicas_in_sync


def across_workers() -> bool:
    """Whether the current strategy spans several worker processes (MultiWorkerMirrored)."""
    extended = tf.distribute.get_strategy().extended
    # What Keras itself checks to choose its multi-worker code paths.
    return bool(getattr(extended, "_in_multi_worker_mode", lambda: False)())


def _replica_context():
    """The replica context of a step running under a strategy with several replicas, else None."""
    if count() == 1:
        return None
    return tf.distribute.get_replica_context()  # None in cross-replica code


def global_sum(values):
    """values (a tensor or a nest of them) summed over all replicas."""
    context = _replica_context()
    if context is None:
        return values
    return context.all_reduce(tf.distribute.ReduceOp.SUM, values)


def batch_mean(values: tf.Tensor, axis: int | None = None) -> tf.Tensor:
    """tf.reduce_mean(values, axis) over the global batch: axis None or 0 (the batch axis)."""
    if _replica_context() is None:
        return tf.reduce_mean(values, axis)
    total = tf.reduce_sum(values, axis)
    entries = tf.cast(tf.size(values), values.dtype) / tf.cast(tf.size(total), values.dtype)
    total, entries = global_sum([total, entries])
    return total / entries


def own_rows(draw, rows: tf.Tensor) -> tf.Tensor:
    """This replica's rows of draw(N · rows): draw(n) makes n rows from the shared seed.

    Every replica makes the same global draw (the seed state is the same on all) and keeps
    the slice of its replica id, so the draws differ between replicas and match one device's.
    """
    context = _replica_context()
    if context is None:
        return draw(rows)
    start = tf.cast(context.replica_id_in_sync_group, tf.int32) * rows
    return draw(rows * count())[start:start + rows]


def for_summing(gradients: list) -> list:
    """Gradients scaled for the optimizer's sum over replicas (divided by their number)."""
    replicas = count()
    if replicas == 1:
        return gradients
    return [None if g is None else g / replicas for g in gradients]
