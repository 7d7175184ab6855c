"""Findings of the line review of the speed work (session 6), each failing before its fix."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from engine.history import snapshot
from engine.value.models import _threads


def test_ids_of_several_arrow_chunks_are_one_array() -> None:
    # pandas' Arrow-backed text after a concat holds several chunks
    ids = pd.concat([pd.Series(["c"], dtype="string[pyarrow]"),
                     pd.Series(["a", "z"], dtype="string[pyarrow]")], ignore_index=True)
    got = snapshot.column(ids, pa.string())
    assert isinstance(got, pa.Array)
    assert got.to_pylist() == ["c", "a", "z"]


def test_fits_on_two_threads_leave_the_blas_threads_as_they_were() -> None:
    """The main thread's fit limits BLAS to one thread and lifts it itself; a fit on another
    thread (cvm run's spend model) overlapping it, before or after, changes nothing."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    np.dot(np.ones((2, 2)), np.ones((2, 2)))  # BLAS loaded

    def counts() -> list[int]:
        return [m["num_threads"] for m in threadpoolctl.threadpool_info()
                if m["user_api"] == "blas"]

    before = counts()
    main_in, worker_in, main_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, list[int]] = {}

    def worker() -> None:  # enters while the main fit runs, leaves after it
        main_in.wait(5)
        with _threads.one_blas_thread():
            worker_in.set()
            main_out.wait(5)
            seen["worker after main left"] = counts()

    thread = threading.Thread(target=worker)
    thread.start()
    with _threads.one_blas_thread():
        main_in.set()
        worker_in.wait(5)
        seen["main inside"] = counts()
    main_out.set()
    thread.join(10)
    assert seen["main inside"] == [1] * len(before)
    assert seen["worker after main left"] == before
    assert counts() == before
