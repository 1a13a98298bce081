"""The backend coalescer: no wait when idle, arrivals during a forward ride the next one, every
caller gets its own results, and one request's failure stays its own."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from model_src.coalescer import Coalescer


class Model:
    """A batch function that records its batches and can be held mid-forward."""

    def __init__(self):
        self.batches: list[list] = []
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()

    def __call__(self, items: list) -> list:
        self.batches.append(list(items))
        self.entered.set()
        self.release.wait(5)
        if any(item == "bad" for item in items):
            raise ValueError("bad item")
        return [f"answer to {item}" for item in items]


def run(coroutine):
    return asyncio.run(coroutine)


@pytest.fixture
def executor():
    with ThreadPoolExecutor(1) as pool:
        yield pool


def test_a_lone_request_runs_at_once_alone(executor):
    model = Model()
    sizes = []
    coalescer = Coalescer(model, executor, on_batch=sizes.append)
    assert run(coalescer.submit(["a", "b"])) == ["answer to a", "answer to b"]
    assert model.batches == [["a", "b"]] and sizes == [1]


def test_arrivals_during_a_forward_ride_the_next_one_and_each_gets_its_own_answers(executor):
    model = Model()
    sizes = []
    coalescer = Coalescer(model, executor, on_batch=sizes.append)

    async def scenario():
        model.release.clear()
        first = asyncio.ensure_future(coalescer.submit(["first"]))
        await asyncio.get_running_loop().run_in_executor(None, model.entered.wait, 5)
        later = [asyncio.ensure_future(coalescer.submit([f"r{i}", f"r{i}-2"])) for i in range(5)]
        await asyncio.sleep(0.05)  # all five are waiting behind the running forward
        model.release.set()
        return await first, await asyncio.gather(*later)

    first, later = run(scenario())
    assert first == ["answer to first"]
    assert later == [[f"answer to r{i}", f"answer to r{i}-2"] for i in range(5)]
    assert model.batches == [["first"], [x for i in range(5) for x in (f"r{i}", f"r{i}-2")]]
    assert sizes == [1, 5]


def test_a_failing_request_fails_alone(executor):
    model = Model()
    coalescer = Coalescer(model, executor)

    async def scenario():
        model.release.clear()
        first = asyncio.ensure_future(coalescer.submit(["first"]))
        await asyncio.get_running_loop().run_in_executor(None, model.entered.wait, 5)
        good = asyncio.ensure_future(coalescer.submit(["good"]))
        bad = asyncio.ensure_future(coalescer.submit(["bad"]))
        other = asyncio.ensure_future(coalescer.submit(["other"]))
        await asyncio.sleep(0.05)
        model.release.set()
        return await asyncio.gather(first, good, bad, other, return_exceptions=True)

    first, good, bad, other = run(scenario())
    assert first == ["answer to first"] and good == ["answer to good"] and other == ["answer to other"]
    assert isinstance(bad, ValueError)


def test_a_lone_failing_request_is_not_run_twice(executor):
    model = Model()
    with pytest.raises(ValueError):
        run(Coalescer(model, executor).submit(["bad"]))
    assert model.batches == [["bad"]]
