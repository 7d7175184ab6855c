"""A partition's feature table leaves its Dask worker as one 2-D block per dtype.

``build_features`` makes its table a block per column (``copy=False``: no copy in one
process). Sent that way from the workers, the tables cost the client memory: at 10M customers
with UUID ids the peak of the command, scheduler and workers together rose from 18,573 to
20,217 MiB (21.2 GB), at or past the 20 GB the issue allows; at 1M the client held 2,726 MiB
against 2,460-2,580 with the tables copied into blocks per dtype on the workers
(benchmarks/RESULTS.md, 4 December 2026).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.distributed import part as part_module
from engine.project.config import Config, load_config
from tests.conftest import copy_example_project


def test_a_partitions_feature_table_leaves_the_worker_in_one_block_per_dtype(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(copy_example_project(tmp_path))

    def the_example(config: Config, scratch: Path, part: int, as_of: dt.date) -> Config:
        return config  # the partition: every row of the example

    monkeypatch.setattr(part_module, "partition_config", the_example)
    part = part_module.score_part(config, tmp_path, 0, dt.date(2026, 1, 1), None)
    assert part is not None and len(part.frame) == 2_000
    dtypes = {str(t) for t in part.frame.dtypes}
    assert part.frame._mgr.nblocks == len(dtypes), (part.frame._mgr.nblocks, sorted(dtypes))
