"""The CDNOW 1/10 sample (2,357 customers) as a project of its own, for the tests of `cvm fit`
and the value models that run on it in process (tests/test_fit_trial15.py,
tests/test_fit_value_table_model.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import ROOT

CONFIG = """\
name: CDNOW sample
data:
  transactions: sample.txt
  delimiter: whitespace
  date_format: "%Y%m%d"
  duplicates: keep
  columns: {customer_id: customer_id, date: date, amount: dollars}
as_of: 1998-07-01
currency: USD
margin_rate: 0.3
"""


def sample_project(tmp_path: Path, extra: str = "", *, rules: bool = False) -> Path:
    """``tmp_path/p``: cvm.yaml (``CONFIG``, then ``extra``) and the sample with a header;
    with ``rules``, the repository's rules/ too."""
    project = tmp_path / "p"
    project.mkdir()
    if rules:
        shutil.copytree(ROOT / "rules", project / "rules")
    body = (ROOT / "examples" / "cdnow" / "CDNOW_sample.txt").read_text()
    (project / "sample.txt").write_text("master_id customer_id date cds dollars\n" + body)
    (project / "cvm.yaml").write_text(CONFIG + extra)
    return project
