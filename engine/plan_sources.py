"""Where the two sides of a plan come from: the project itself, a folder laid out like it, or a
git revision. Each side is materialised into a temporary folder (rules/, policies/, templates/):
the project's files first, then the other version's files over them, file by file, so a
proposed folder only needs the files it changes (switch a policy off with ``enabled: false``)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError, Problem

PARTS = ("rules", "policies", "templates")


@dataclass(frozen=True)
class Source:
    label: str  # how the side is named in the plan ("current project", "main~1", a folder)
    folder: Path  # the materialised folder


def materialise(project: Path, into: Path, *, folder: Path | None = None,
                ref: str | None = None) -> Source:
    """The project's rules/policies/templates with ``folder``'s or ``ref``'s laid over them."""
    into.mkdir(parents=True)
    for part in PARTS:
        if (project / part).is_dir():
            shutil.copytree(project / part, into / part)
    if folder is not None:
        if not folder.is_dir():
            raise InputError(Problem("not a folder", file=str(folder), hint="--proposed takes a "
                                     "folder laid out like the project (policies/, rules/)"))
        found = [p for p in PARTS if (folder / p).is_dir()]
        if not found:
            raise InputError(Problem("has no policies/, rules/ or templates/ folder",
                                     file=str(folder), hint="lay it out like the project"))
        for part in found:
            shutil.copytree(folder / part, into / part, dirs_exist_ok=True)
        return Source(str(folder), into)
    if ref is not None:
        _overlay_ref(project, into, ref)
        return Source(ref, into)
    return Source("current project", into)


def _git(project: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(project), *args], capture_output=True,
                              check=False)
    except FileNotFoundError:
        raise InputError(Problem("git is not installed", key="--proposed-ref")) from None
    if done.returncode != 0:
        raise _GitError(done.stderr.decode(errors="replace").strip())
    return done.stdout


class _GitError(Exception):
    pass


def _overlay_ref(project: Path, into: Path, ref: str) -> None:
    try:
        top = Path(_git(project, "rev-parse", "--show-toplevel").decode().strip())
        _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except _GitError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "unknown revision"
        raise InputError(Problem(
            f"git revision {ref!r} not found in the repository of {project} ({detail})",
            key="--proposed-ref/--baseline-ref",
            hint="a branch, tag or commit of the project's repository, e.g. main~1")) from None
    prefix = project.resolve().relative_to(top.resolve()).as_posix()
    paths = [f"{prefix}/{p}" if prefix != "." else p for p in PARTS]
    listed = _git(top, "ls-tree", "-r", "--name-only", ref, "--", *paths).decode().split("\n")
    files = [f for f in listed if f]
    if not files:
        return
    data = _git(top, "archive", "--format=tar", ref, "--", *files)
    strip = len(prefix) + 1 if prefix != "." else 0
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = Path(member.name[strip:])
            if rel.parts[0] not in PARTS or ".." in rel.parts:
                continue
            target = into / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            extracted = tar.extractfile(member)
            if extracted is not None:
                target.write_bytes(extracted.read())
