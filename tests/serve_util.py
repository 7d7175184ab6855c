"""What the `cvm serve` tests share: a copy of a bundled example with a run written, and the
service started for real on 127.0.0.1 (a free port, in a thread)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from engine import api
from engine.serve.server import Options, Running

ROOT = Path(__file__).resolve().parents[1]
KEY = "test-key-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {KEY}"}


def example_copy(tmp: Path, example: str | None = None) -> Path:
    """The retail example (the repository root) or ``examples/<example>``, its YAML and
    templates copied to ``tmp`` with its data read where it is; then ``cvm run``."""
    source = ROOT if example is None else ROOT / "examples" / example
    project = tmp / (example or "retail")
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
    api.run(project, out=project / "output")
    return project


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
