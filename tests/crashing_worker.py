"""python -m tfgad.main, except that one worker of a multi-worker run dies mid-epoch.

For the kill-and-resume test: the worker whose TF_CONFIG index is TFGAD_TEST_CRASH_WORKER
(default 1) ends with os._exit(3), like a kill, after the first step of epoch index
TFGAD_TEST_CRASH_EPOCH. That step's all-reduce needs the chief, so by then the chief has
finished the epoch before and saved its backup.
"""
import json
import os

import keras
from absl import app

from tfgad import main as tfgad_main
from tfgad.training import callbacks

CRASH_EXIT_STATUS = 3


class DieMidEpoch(keras.callbacks.Callback):

    def __init__(self, epoch):
        super().__init__()
        self.crash_epoch, self.epoch = epoch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.crash_epoch and batch == 0:
            os._exit(CRASH_EXIT_STATUS)  # no cleanup, no exception handlers: a kill


def main():
    index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
    if index == int(os.environ.get("TFGAD_TEST_CRASH_WORKER", "1")):
        standard = callbacks.standard
        epoch = int(os.environ["TFGAD_TEST_CRASH_EPOCH"])
        callbacks.standard = lambda *args: standard(*args) + [DieMidEpoch(epoch)]
    app.run(tfgad_main.main, flags_parser=tfgad_main.parse_flags)


if __name__ == "__main__":
    main()
