"""Counting the reads of a project's files per command, shared by the golden run of the whole
session (tests/conftest.py, ``golden_run``) and tests/test_read_once.py.

The one YAML loader (engine.project.yamlio.load_file) and the templates' reader
(engine.project.templates.read_file) are replaced by counting wrappers wherever a module of
the engine bound them by name; each command is counted as in a new process (no template
compiled yet)."""

from __future__ import annotations

import collections
import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

import engine
from engine.project import templates, yamlio
from engine.render import sandbox


class ReadCounter:
    def __init__(self) -> None:
        self.found: dict[str, collections.Counter[str]] = {}
        self._counts: collections.Counter[str] = collections.Counter()

    @contextmanager
    def installed(self) -> Iterator[ReadCounter]:
        """The loaders replaced by counting ones while inside."""
        loader, read_template, counts = yamlio.load_file, templates.read_file, self._counts

        def counted(path: Path, **kwargs: Any) -> yamlio.YamlDoc:
            counts[str(Path(path).resolve())] += 1
            return loader(path, **kwargs)

        def counted_template(path: Path) -> bytes:
            counts[str(Path(path).resolve())] += 1
            return read_template(path)

        patch = pytest.MonkeyPatch()
        try:
            patch.setattr(templates, "read_file", counted_template)
            # modules bind the loader by name: each binding is replaced
            # (Alembic's migration scripts are run by Alembic, never imported)
            for info in pkgutil.walk_packages(engine.__path__, "engine."):
                if info.name != "engine.__main__" and ".migrations" not in info.name:
                    module = importlib.import_module(info.name)
                    if getattr(module, "load_file", None) is loader:
                        patch.setattr(module, "load_file", counted)
            yield self
        finally:
            patch.undo()

    @contextmanager
    def counting(self, label: str) -> Iterator[None]:
        """The files read inside, recorded as ``found[label]``."""
        self._counts.clear()
        sandbox.sandbox.cache_clear()  # as in a new process: no template compiled yet
        try:
            yield
        finally:
            self.found[label] = collections.Counter(self._counts)
