"""The training layer: the training loop (train_lib), its callbacks, the tf.distribute cluster,
the workdir and its guards, config checks, and robust training on contaminated data."""
