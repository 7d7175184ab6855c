"""``cvm serve [PROJECT]``: the next-best-action service over HTTP (engine.serve)."""

from __future__ import annotations

from pathlib import Path

import typer

from engine.errors import Problem, UsageError
from engine.project.location import project_folder
from engine.serve.security import load_key
from engine.serve.server import Options, Running
from engine.words import counted


def run(*, folder: Path | None, project: Path | None, config_file: Path | None,
        run_folder: Path | None, host: str, port: int, key_file: Path | None,
        history: bool, watch_seconds: float, quiet: bool, docs: bool = True) -> int:
    if folder is not None and project is not None and folder.resolve() != project.resolve():
        raise UsageError(Problem("PROJECT and --project name different folders",
                                 key="--project", hint="give the project once"))
    key = load_key(key_file)  # refused before anything is loaded
    if not 1 <= port <= 65535:
        raise UsageError(Problem(f"found {port}, expected a port from 1 to 65535",
                                 key="--port"))
    options = Options(project=project_folder(folder or project, config_file),
                      config_file=config_file, run=run_folder, host=host, port=port,
                      history=history, watch_seconds=watch_seconds, access_log=not quiet,
                      docs=docs)
    service = Running(options, key)
    if not quiet:
        state = service.holder.state
        shown = f"docs: {service.url}/docs, " if docs else ""
        typer.echo(f"Serving run {state.run_id} ({counted(len(state.ready), 'customer')} as of "
                   f"{state.run.as_of}) on {service.url}  ({shown}agent "
                   f"screen: {service.url}/agent/)", err=True)
    service.run()
    return 0
