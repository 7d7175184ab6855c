"""What the `cvm serve` tests share: a copy of a bundled example with a run written, and the
service started for real on 127.0.0.1 (a free port, in a thread)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from engine import api
from engine.serve.server import Options, Running

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}


def example_copy(tmp: Path, example: str | None = None) -> Path:
    """The retail example (the repository root) or ``examples/<example>``, its YAML and
    templates copied to ``tmp`` with its data read where it is; then ``cvm run``.

    The run is made once per session and example (``_example_run``) and copied, with the history
    it recorded, to where this test's run would have gone: the folder, and the history file that
    CVM_HISTORY_URL names, are what a run of the test's own would have left, but for the run's
    time stamps (the run takes seconds; the serve tests take dozens of copies). A history that
    is not a new SQLite file of the test's own gets a run of its own."""
    project = tmp / (example or "retail")
    history = Path(os.environ.get("CVM_HISTORY_URL", ""))
    if not history.is_absolute() or history.exists() or not history.parent.is_dir():
        _copy_example(project, example)
        api.run(project, out=project / "output")
        return project
    made, made_history = _example_run(example)
    shutil.copytree(made, project)
    shutil.copy2(made_history, history)
    manifest = project / "output" / "manifest.json"
    text = manifest.read_text()
    said = f'"database": {json.dumps(str(made_history))}'
    assert text.count(said) == 1, f"{manifest}: the history is no longer named as {said}"
    manifest.write_text(text.replace(said, f'"database": {json.dumps(str(history))}'))
    return project


_RUNS: dict[str | None, tuple[Path, Path]] = {}
_RUNS_DIR: list[tempfile.TemporaryDirectory[str]] = []


def _example_run(example: str | None) -> tuple[Path, Path]:
    """The example copied and run once for the session, in a folder of its own with a history
    of its own (an empty one, as every test's is): the project folder and the history file."""
    if example not in _RUNS:
        if not _RUNS_DIR:
            _RUNS_DIR.append(tempfile.TemporaryDirectory(prefix="cvm-serve-runs-"))
        where = Path(_RUNS_DIR[0].name) / (example or "retail")
        where.mkdir()
        project, history = where / "project", where / "history.sqlite"
        _copy_example(project, example)
        before = os.environ.get("CVM_HISTORY_URL")
        os.environ["CVM_HISTORY_URL"] = str(history)
        try:
            api.run(project, out=project / "output")
        finally:
            if before is None:
                del os.environ["CVM_HISTORY_URL"]
            else:
                os.environ["CVM_HISTORY_URL"] = before
        assert sorted(p.name for p in where.iterdir()) == ["history.sqlite", "project"]
        _RUNS[example] = project, history
    return _RUNS[example]


def _copy_example(project: Path, example: str | None) -> None:
    source = ROOT if example is None else ROOT / "examples" / example
    project.mkdir()
    for name in ("rules", "policies", "templates", "triggers"):
        if (source / name).is_dir():
            shutil.copytree(source / name, project / name)
    text = (source / "cvm.yaml").read_text()
    if example is None:
        text = text.replace("examples/", f"{ROOT}/examples/")
    else:
        lines = []
        for line in text.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("transactions", "customers", "contracts") and value.strip():
                line = f"{key}: {source / value.strip()}"
            lines.append(line)
        text = "\n".join(lines) + "\n"
    (project / "cvm.yaml").write_text(text)


@contextmanager
def serving(project: Path, **options: object) -> Iterator[Running]:
    options.setdefault("access_log", False)
    service = Running(Options(project=project, port=0, **options), KEY)  # type: ignore[arg-type]
    service.start()
    try:
        yield service
    finally:
        service.stop()


def client(service: Running, **kwargs: object) -> httpx.Client:
    return httpx.Client(base_url=service.url, headers=AUTH, timeout=30,
                        **kwargs)  # type: ignore[arg-type]


def complaint(http: httpx.Client, customer: str) -> dict[str, dict[str, object]]:
    """Post a complaint of the customer; the actions fired, by trigger id."""
    body = http.post("/v1/events", json={"customer_id": customer, "type": "complaint"}).json()
    return {f["trigger_id"]: f for f in body["fired"]}


def agent_page(browser: Any, service: Running) -> Any:
    """The agent screen opened in a new page of ``browser`` (Playwright's), the key set."""
    page = browser.new_page()
    page.goto(service.url + "/")
    page.fill("#key", KEY)
    page.click("#key-form button")
    return page
