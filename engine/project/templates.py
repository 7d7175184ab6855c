"""The project's templates (``templates/``), read once into a frozen record.

Every file under templates/ is read here, once per command; the render stage compiles the text
in its sandbox (``engine.render.sandbox``), which never opens a project file itself. A file
larger than ``MAX_TEMPLATE_BYTES`` is not read: its size is kept, for the sandbox to refuse it
at its name (the same error as before the record existed).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

TEMPLATES = "templates"
MAX_TEMPLATE_BYTES = 1_000_000


@dataclass(frozen=True)
class Outside:
    """A file of templates/ that is a link to a file outside it: not read (a change to the
    project's templates could otherwise put any file of the machine into the briefs)."""

    target: str
    folder: bool = False  # templates/ itself is the link (to ``target``), not the file


@dataclass(frozen=True)
class Templates:
    """The files of one project's templates/: name (relative, with ``/``) -> their bytes, or
    their size when it is over the limit."""

    folder: Path  # the project's templates/ (shown in messages; never read again)
    files: tuple[tuple[str, bytes | int | Outside], ...] = ()
    linked: str | None = None  # templates/ is a link to this folder: none of it is read
    _index: dict[str, bytes | int | Outside] = field(default_factory=dict, compare=False,
                                                     hash=False, repr=False)

    def __post_init__(self) -> None:
        self._index.update(self.files)

    def has(self, name: str) -> bool:
        if self.linked is not None:
            return (Path(self.linked) / name).is_file()
        return name in self._index

    def get(self, name: str) -> bytes | int | Outside | None:
        if self.linked is not None:
            return Outside(self.linked, folder=True)
        return self._index.get(name)


NO_TEMPLATES = Templates(Path(TEMPLATES))  # a scope that does not read templates/


def read_file(path: Path) -> bytes:
    """One template file's bytes (the one place a template file is opened)."""
    return path.read_bytes()


def read_templates(project: Path) -> Templates:
    """Every file under ``project/templates/`` (none when the folder is missing)."""
    folder = project / TEMPLATES
    found: list[tuple[str, bytes | int | Outside]] = []
    if folder.is_dir():
        inside = folder.resolve()
        if folder.is_symlink():  # `ln -s . templates`: the whole project, cvm.yaml with it
            return Templates(folder, linked=str(inside))
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                path = Path(root) / name
                if not path.is_file():
                    continue
                rel = path.relative_to(folder).as_posix()
                target = path.resolve()
                if not target.is_relative_to(inside):
                    found.append((rel, Outside(str(target))))
                    continue
                size = path.stat().st_size
                found.append((rel, size if size > MAX_TEMPLATE_BYTES else read_file(path)))
    return Templates(folder, tuple(found))
