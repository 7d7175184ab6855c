"""The Python API: what the CLI does, callable from a campaign tool without a shell.

    from engine import api
    result = api.run("path/to/project")          # the main job; writes the run folder
    result.actions                               # the action list (pandas DataFrame)
    scored = api.score("path/to/project")        # the customer value table only
    problems = api.validate("path/to/project")   # every error and warning in the YAML files

Errors in inputs raise ``engine.errors.InputError`` (``.problems`` lists them); an output that
cannot be written raises ``engine.errors.OutputError``.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import Config, load_config
from engine.pipeline import Progress
from engine.run import RunResult
from engine.run import run as _run
from engine.score import Scored
from engine.score import score as _score


def _config(project: str | Path, config_file: str | Path | None) -> Config:
    return load_config(Path(project), config_file=Path(config_file) if config_file else None)


def run(project: str | Path = ".", *, config_file: str | Path | None = None,
        out: str | Path | None = None, fmt: str = "csv",
        progress: Progress | None = None) -> RunResult:
    """Score, stage, decide, allocate and render; write the run folder; return the result."""
    return _run(_config(project, config_file), out=Path(out) if out else None, fmt=fmt,
                progress=progress)


def score(project: str | Path = ".", *, config_file: str | Path | None = None) -> Scored:
    """The customer value table (nothing is written)."""
    return _score(_config(project, config_file))
