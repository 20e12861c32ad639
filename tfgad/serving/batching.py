"""Dynamic request batching, like TF Serving's: concurrent requests to the same model version,
signature and sample shape are merged into one call of the signature and split back.

A tfgad score does not depend on the batch (the latent search shares its starts across samples),
so merging changes only the speed: many single-sample searches become one batched search."""
import asyncio
import dataclasses

import numpy as np


class QueueFull(RuntimeError):
    """More requests wait than max_enqueued allows; the server answers 503."""


class VersionUnloaded(RuntimeError):
    """The version a request waited for left the disk before its turn; the server answers 503
    (gRPC UNAVAILABLE): a retry goes to the version that replaced it."""


@dataclasses.dataclass
class BatchingOptions:
    max_batch_size: int = 64  # samples in one merged call
    batch_timeout_micros: int = 2000  # how long the first request of a batch waits for others
    max_enqueued: int = 1000  # waiting requests per queue before new ones are refused


class _Queue:
    """One queue and its worker task, for one (version, signature, sample shape)."""

    def __init__(self, call, options, loop, batcher):
        self.call, self.options, self.loop, self.batcher = call, options, loop, batcher
        self.items = asyncio.Queue(maxsize=options.max_enqueued)
        self.task = loop.create_task(self._work())
        self.retired = None  # the error that answers requests after retire()

    def retire(self, error: Exception) -> None:
        """Answers every waiting request with error and ends the worker after the batch it
        is running (that batch completes: its call holds the model)."""
        self.retired = error
        while not self.items.empty():
            item = self.items.get_nowait()
            if item is not None and not item[1].done():
                item[1].set_exception(error)
        self.items.put_nowait(None)  # wakes a worker that waits for its first request

    async def _collect(self):
        first = await self.items.get()
        if first is None:  # retired
            return []
        batch, rows = [first], len(next(iter(first[0].values())))
        deadline = self.loop.time() + self.options.batch_timeout_micros / 1e6
        while rows < self.options.max_batch_size:
            remaining = deadline - self.loop.time()
            if remaining <= 0:
                break
            try:
                item = await asyncio.wait_for(self.items.get(), remaining)
            except asyncio.TimeoutError:
                break
            if item is None:  # retired while collecting: run what was collected, then end
                break
            batch.append(item)
            rows += len(next(iter(item[0].values())))
        return batch

    async def _work(self):
        while self.retired is None:
            batch = await self._collect()
            if not batch:
                return
            sizes = [len(next(iter(inputs.values()))) for inputs, _ in batch]
            merged = {name: np.concatenate([inputs[name] for inputs, _ in batch])
                      for name in batch[0][0]}
            self.batcher.calls += 1
            self.batcher.requests += len(batch)
            try:
                outputs = await self.loop.run_in_executor(None, self.call, merged)
            except Exception as e:  # every waiting request gets the error
                for _, future in batch:
                    if not future.done():
                        future.set_exception(e)
                continue
            start = 0
            for (_, future), size in zip(batch, sizes):
                if not future.done():
                    future.set_result({k: v[start:start + size] for k, v in outputs.items()})
                start += size


class Batcher:
    """Merges concurrent calls; submit() from the event loop's thread only."""

    def __init__(self, options: BatchingOptions):
        self.options = options
        self._queues: dict = {}
        self.calls = 0  # signature calls made for merged requests (for tests and benchmarks)
        self.requests = 0  # requests that went through a queue

    async def submit(self, key: tuple, call, inputs: dict) -> dict:
        """call(inputs) -> {name: array with the batch first}, merged with other submits of key.

        Args:
          key: what may be merged: (version, signature, shapes of a sample of each input).
          call: runs the signature on numpy inputs (in a worker thread).
          inputs: {name: [n, ...] numpy array}.
        """
        rows = len(next(iter(inputs.values())))
        if rows >= self.options.max_batch_size:  # already a full batch: run it alone
            return await asyncio.get_running_loop().run_in_executor(None, call, inputs)
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = _Queue(call, self.options, asyncio.get_running_loop(), self)
        future = asyncio.get_running_loop().create_future()
        try:
            queue.items.put_nowait((inputs, future))
        except asyncio.QueueFull:
            raise QueueFull(f"{self.options.max_enqueued} requests are already waiting; retry "
                            "later") from None
        return await future

    async def close(self) -> None:
        """Ends every queue's worker (at server stop)."""
        tasks = [q.task for q in self._queues.values()]
        self._queues.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def forget(self, version: int) -> None:
        """Drops the queues of an unloaded version: every request waiting there is answered
        (VersionUnloaded), the batch in flight completes."""
        for key in [k for k in self._queues if k[0] == version]:
            self._queues.pop(key).retire(VersionUnloaded(
                f"version {version} was unloaded while this request waited; retry (the next "
                "request goes to the latest available version)"))
