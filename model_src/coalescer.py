"""Batching in the backend without waiting: requests that arrive while the model is busy ride the next forward.

TorchServe 0.12's frontend batcher either waits (max_batch_delay > 0: every lone request pays the
delay) or stops at two requests (delay 0). In the asynchronous backend mode (model-config.yaml
`asyncCommunication: true`) the frontend hands every request to the worker at once and the handler
decides: when the model is idle a request runs immediately, alone; while a forward pass runs,
arrivals queue here, and the moment it ends everything queued runs as one batch. So a batch is as
large as the load makes it and nobody ever waits for a timer.

The batch function runs in a one-thread executor (ONNX Runtime and torch release the GIL during the
forward, so the event loop keeps reading requests meanwhile). If a merged batch raises, each
request is retried alone, so one request's failure fails that request only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any


class Coalescer:
    """submit(items) -> results of those items, computed together with whatever else was waiting."""

    def __init__(self, run_batch: Callable[[list], list], executor: Executor, on_batch: Callable[[int], None] | None = None):
        self.run_batch = run_batch  # items -> one result per item, in order
        self.executor = executor
        self.on_batch = on_batch  # called with the number of requests of each forward (a metric)
        self.waiting: list[tuple[list, asyncio.Future]] = []
        self.draining = False

    async def submit(self, items: list) -> list:
        """The results of `items`; raises what computing them alone raised."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.waiting.append((items, future))
        if not self.draining:
            self.draining = True
            loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        """Run what waits as one batch, then what arrived meanwhile, until nothing waits."""
        loop = asyncio.get_running_loop()
        try:
            while self.waiting:
                taken, self.waiting = self.waiting, []
                if self.on_batch is not None:
                    self.on_batch(len(taken))
                flat = [item for items, _ in taken for item in items]
                try:
                    results = await loop.run_in_executor(self.executor, self.run_batch, flat)
                except Exception as exc:  # noqa: BLE001 - a merged batch is retried request by request
                    if len(taken) == 1:
                        taken[0][1].set_exception(exc)
                    else:
                        await self._one_by_one(taken)
                    continue
                start = 0
                for items, future in taken:
                    if not future.done():
                        future.set_result(results[start : start + len(items)])
                    start += len(items)
        finally:
            self.draining = False

    async def _one_by_one(self, taken: list[tuple[list, asyncio.Future]]) -> None:
        loop = asyncio.get_running_loop()
        for items, future in taken:
            try:
                result: Any = await loop.run_in_executor(self.executor, self.run_batch, items)
            except Exception as exc:  # noqa: BLE001 - handed to that request's caller
                if not future.done():
                    future.set_exception(exc)
                continue
            if not future.done():
                future.set_result(result)
