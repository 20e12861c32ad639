"""Two train steps on 2 replicas against two steps on one device, for every model family.

Run by tests/test_distributed.py in a fresh process, because the 2 logical CPU devices must be
configured before TensorFlow starts: python -m tests.replica_equivalence OUT.json

For each family the same initial weights train two steps on the same 2B rows: once on one
device, once under MirroredStrategy with B rows per replica. Plain SGD is used because Adam's
first steps are nearly sign(gradient) and would hide a gradient off by the replica count.
Writes {family: {"weight_diff", "update", "log_diff", ...}, "draws": {...}} to OUT.json.
"""
import json
import sys

import tensorflow as tf

CPU = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(CPU, [tf.config.LogicalDeviceConfiguration()] * 2)

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tfgad.configs import test as test_config  # noqa: E402
from tfgad import models, priors  # noqa: E402

FAMILIES = tuple(models.MODELS) + ("fanogan_encoder_stage",)
ROWS_PER_REPLICA = 4
LEARNING_RATE = 0.05


def config_for(family):
    config = test_config.get_config()
    config.model.name = family.replace("_encoder_stage", "")
    config.model.wgan_gp.n_critic = 2  # a short critic loop is enough to compare
    return config


def build(config, strategy):
    with strategy.scope():
        model = models.build(config, (config.data.length, 1), priors.from_config(config))
        optimizers = {"d_optimizer": keras.optimizers.SGD(LEARNING_RATE),
                      "g_optimizer": keras.optimizers.SGD(LEARNING_RATE)}
        if config.model.name == "fanogan":
            optimizers["e_optimizer"] = keras.optimizers.SGD(LEARNING_RATE)
        model.compile(**optimizers)
    return model


def values(model):
    return [np.array(v.numpy()) for v in model.weights]


def two_steps(model, step, x):
    logs = None
    for _ in range(2):
        logs = step(x)
    return {k: float(v) for k, v in logs.items()}


def compare(family, mirrored, x):
    config = config_for(family)
    one = build(config, tf.distribute.get_strategy())
    two = build(config, mirrored)
    for target, source in zip(two.weights, one.weights):
        target.assign(source.numpy())
    if family.endswith("_encoder_stage"):
        one.set_stage(1)
        two.set_stage(1)
    before = values(one)
    one_logs = two_steps(one, tf.function(one.train_step), tf.constant(x))

    per_replica = mirrored.experimental_distribute_values_from_function(
        lambda context: x[context.replica_id_in_sync_group * ROWS_PER_REPLICA:
                          (context.replica_id_in_sync_group + 1) * ROWS_PER_REPLICA])

    @tf.function
    def replicated_step(batch):
        logs = mirrored.run(two.train_step, args=(batch,))
        # Every replica reports the global-batch value; take the first.
        return {k: mirrored.experimental_local_results(v)[0] for k, v in logs.items()}

    two_logs = two_steps(two, replicated_step, per_replica)
    after_one, after_two = values(one), values(two)
    return {
        "weight_diff": max(float(np.max(np.abs(a - b))) for a, b in zip(after_one, after_two)),
        "update": max(float(np.max(np.abs(a - b))) for a, b in zip(after_one, before)),
        # Relative to the loss: GANomaly's weighted generator loss is about 80.
        "log_diff": max(abs(one_logs[k] - two_logs[k]) / max(1.0, abs(one_logs[k]))
                        for k in one_logs),
        "logs": one_logs,
    }


def draws(mirrored):
    """The replicas' latent draws, and one device's draw of the global batch from the same seed."""
    config = config_for("gan")
    one, two = build(config, tf.distribute.get_strategy()), build(config, mirrored)
    local = mirrored.run(tf.function(lambda: two.sample_latent(ROWS_PER_REPLICA)))
    first, second = (np.array(t) for t in mirrored.experimental_local_results(local))
    whole = one.sample_latent(2 * ROWS_PER_REPLICA).numpy()
    return {"replicas_differ": bool(np.max(np.abs(first - second)) > 1e-3),
            "matches_one_device": float(np.max(np.abs(np.concatenate([first, second]) - whole)))}


def main(out_path):
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert mirrored.num_replicas_in_sync == 2
    x = np.random.RandomState(0).normal(0, 0.5, (2 * ROWS_PER_REPLICA, 64, 1)).astype("float32")
    results = {"draws": draws(mirrored)}
    for family in sys.argv[2:] or FAMILIES:
        keras.utils.set_random_seed(0)
        results[family] = compare(family, mirrored, x)
        print(family, results[family], flush=True)
    with open(out_path, "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
