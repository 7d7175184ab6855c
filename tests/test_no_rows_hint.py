"""A file with a header and no rows says where to look (every file the engine reads: a
responses file named on the command line has no cvm.yaml setting to point at)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from engine.errors import InputError
from engine.history.responses import read_responses


@pytest.mark.parametrize("content", ["customer_id,campaign,date,outcome,revenue\n",
                                     "customer_id,campaign,date,outcome"])
def test_a_responses_file_with_a_header_and_no_rows(tmp_path: Path, content: str) -> None:
    (tmp_path / "r.csv").write_text(content)
    with pytest.raises(InputError) as exc:
        read_responses(tmp_path / "r.csv", "r.csv", today=dt.date(2026, 1, 1))
    assert exc.value.format() == (
        "r.csv: the file has a header but no data rows\n"
        "  hint: check whether the export stopped early or wrote its rows to another file")
