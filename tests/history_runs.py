"""Two runs with a history, shared by the history tests and benchmarks/bench_history.py.

From the command line: ``retail_copy`` (a copy of the bundled retail project, the checkout
never written), ``set_as_of`` and ``two_runs`` (a run, responses imported, a second run, all
into one history file). From the library: ``snapshot``, a synthetic recorded run (what
``engine.history.record.record_run`` writes), and ``open_history``.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.history.settings import parse
from engine.history.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
TIERS = ["platinum", "gold", "silver", "bronze"]

MIGRATIONS = Path(__file__).resolve().parents[1] / "engine" / "history" / "migrations"


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def retail_copy(tmp_path: Path, extra: Sequence[str] = ()) -> Path:
    """A copy of the bundled retail project in ``tmp_path/project`` (its data copied too;
    ``extra``: more of its folders, such as policy_tests or triggers)."""
    project = tmp_path / "project"
    project.mkdir()
    for sub in ("rules", "policies", "templates", *extra):
        shutil.copytree(ROOT / sub, project / sub)
    (project / "examples" / "retail").mkdir(parents=True)
    for name in ("transactions.csv", "customers.csv"):
        shutil.copy(ROOT / "examples" / "retail" / name, project / "examples" / "retail" / name)
    shutil.copy(ROOT / "cvm.yaml", project / "cvm.yaml")
    return project


def set_as_of(project: Path, as_of: str | None, config: str | None = None) -> str:
    """Write cvm.yaml (``config``, else the file as it is) with ``as_of`` set (None: the text
    unchanged); the text it started from, to pass back later."""
    path = project / "cvm.yaml"
    original = path.read_text() if config is None else config
    path.write_text(original if as_of is None else
                    original.replace("as_of: null", f"as_of: {as_of}"))
    return original


def run(project: Path, out: Path, *options: str) -> Path:
    """``cvm run`` quietly into ``out``; fails the test on a non-zero exit."""
    done = cvm("run", "--project", str(project), "--out", str(out), "-q", *options)
    assert done.exit_code == 0, done.stderr
    return out


@dataclass(frozen=True)
class TwoRuns:
    first: Path  # the run folders
    second: Path
    imported: Result | None  # `cvm responses import`, when responses were given


def learning_proposal(project: Path, tmp_path: Path) -> Path:
    """A proposal for `cvm plan`: the project's policies with learning's prior weight 0, so the
    plan shows the expected responses learnt from the history on both sides."""
    proposal = tmp_path / "proposal"
    shutil.copytree(project / "policies", proposal / "policies")
    with (proposal / "policies" / "campaigns.yaml").open("a") as f:
        f.write("learning:\n  prior_customers: 0\n")
    return proposal


def two_runs(project: Path, tmp_path: Path, first_as_of: str, second_as_of: str | None = None,
             *, responses: str | None = None, names: Sequence[str] = ("run1", "run2")
             ) -> TwoRuns:
    """Run ``project`` as of ``first_as_of``, import ``responses`` (CSV text) if given, and
    run it again as of ``second_as_of`` (None: cvm.yaml's own as-of), into tmp_path/<names>.
    The history is wherever CVM_HISTORY_URL points (the caller sets it)."""
    config = set_as_of(project, first_as_of)
    first = run(project, tmp_path / names[0])
    imported = None
    if responses is not None:
        (tmp_path / "responses.csv").write_text(responses)
        imported = cvm("responses", "import", str(tmp_path / "responses.csv"), "--project",
                       str(project))
        assert imported.exit_code == 0, imported.stderr
    set_as_of(project, second_as_of, config)
    return TwoRuns(first, run(project, tmp_path / names[1]), imported)


def snapshot(n: int, seed: int = 0, *, status_p: Sequence[float] | None = None,
             tier_p: Sequence[float] | None = None,
             stages: Sequence[str] = ("growth", "maturity", "exit"),
             id_digits: int = 7) -> pd.DataFrame:
    """A synthetic recorded run of ``n`` customers: tiers, stages, values, decisions and
    actions as ``record_run`` takes them (uniform choices unless probabilities are given)."""
    rng = np.random.default_rng(seed)
    status = rng.choice(np.array(["allocated", "holdout", "not_served", None], dtype=object), n,
                        p=status_p)
    tiers = rng.choice(np.array(TIERS), n, p=tier_p)
    return pd.DataFrame({
        "customer_id": [f"C{i:0{id_digits}d}" for i in range(n)],
        "value_tier": tiers,
        "lifecycle_stage": rng.choice(np.array(stages), n),
        "total_value": rng.gamma(2.0, 100.0, n),
        "value_score": rng.uniform(0, 100, n).round(2),
        "action": np.where(status == None, "no_action", "retain"),  # noqa: E711
        "campaign": np.where(status == None, None, "retain_high_value"),  # noqa: E711
        "policy_id": "retain_high_value",
        "channel": np.where(status == "allocated", "email", None),
        "status": status,
        "holdout": np.where(status == None, None, status == "holdout"),  # noqa: E711
        "cost": np.where(status == "allocated", 0.05, np.nan),
        "value_at_stake": rng.uniform(0, 500, n).round(2),
        "expected_response": np.where(status == "allocated", 0.04, np.nan),
    })


def open_history(url: str, folder: Path, source: str = "test") -> Store:
    """The history at ``url`` (created if need be; a relative SQLite path is under
    ``folder``)."""
    store = open_store(parse(url, folder, source=source), create=True)
    assert store is not None
    return store


def history_at(url: str, tmp_path: Path, revision: str,
               frames: Sequence[pd.DataFrame]) -> None:
    """A history as an earlier version made it: the migrations up to ``revision``, then one
    run per frame (snapshot rows only, as-of dates a week apart from 2025-01-06)."""
    import datetime as dt
    import json

    from alembic import command
    from alembic.config import Config
    from sqlalchemy import insert

    from engine.history.record import bulk_insert
    from engine.history.store import _engine
    from engine.history.tables import SNAPSHOT_COLUMNS, runs

    settings = parse(url, tmp_path, source="test")
    if settings.file is not None:
        settings.file.parent.mkdir(parents=True, exist_ok=True)
    engine = _engine(settings, writable=True)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        for k, frame in enumerate(frames, 1):
            conn.execute(insert(runs), {
                "run_id": f"r{k}", "as_of": dt.date(2025, 1, 6) + dt.timedelta(weeks=k - 1),
                "recorded_at": dt.datetime.now(dt.timezone.utc), "engine_version": "old",
                "project": "t", "inputs": json.dumps({}), "customers": len(frame),
                "actioned": int(frame["status"].notna().sum()),
                "allocated": int((frame["status"] == "allocated").sum())})
            bulk_insert(conn, "cvm_snapshots", SNAPSHOT_COLUMNS,
                        frame.assign(run=k)[list(SNAPSHOT_COLUMNS)])
    engine.dispose()


def damaged_history(tmp_path: Path) -> Path:
    """The retail project (copied into ``tmp_path``) and its history ``tmp_path/h.sqlite``
    of two runs, then 4 KB of the file's middle overwritten (the header and the version
    table intact): SQLite's quick check finds it."""
    import datetime as dt

    from engine.history import record

    project = retail_copy(tmp_path)
    history = tmp_path / "h.sqlite"
    store = open_history(str(history), tmp_path)
    try:
        for k in (1, 2):
            record.record_run(store, run_id=f"r{k}", as_of=dt.date(2025, 10, k), project="t",
                              inputs={}, snapshot=snapshot(3000, seed=k))
    finally:
        store.close()
    data = bytearray(history.read_bytes())
    middle = len(data) // 2 // 4096 * 4096
    data[middle:middle + 4096] = b"A" * 4096
    history.write_bytes(bytes(data))
    return project
