"""Where the two versions of a plan come from, and what each one holds.

A version of the project is its ``cvm.yaml``, ``rules/``, ``policies/`` and ``templates/``; each
side of a plan is materialised into a temporary folder of that layout (README: "Dry-running a
policy change"):

- the current project: its files as they are;
- a git revision: those four at that revision, complete (a file not in the revision is not in
  the version);
- a folder holding the configuration file: a complete project (a file it lacks is not in the
  version); the file is where the project's is (``--config conf/prod.yaml``: its
  ``conf/prod.yaml``), else one of that name at its top, else its ``cvm.yaml``;
- a folder without one: each of ``rules/``, ``policies/`` and ``templates/`` it holds
  replaces the baseline's whole folder (a file it lacks is deleted); the others are the
  baseline's;
- with ``--overlay``, a folder's files are laid over the baseline's one by one, for a folder
  that holds only the files that change.

Every file keeps its origin, so an error names the real file (``FOLDER/policies/x.yaml`` or
``REV:path/policies/x.yaml``) and which side it belongs to.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import shutil
import subprocess
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InputError, Problem, in_file_order, printable
from engine.project.config import Config
from engine.words import listed

CONFIG = "cvm.yaml"  # the name of the configuration file inside a materialised version
PARTS = ("rules", "policies", "templates")
ITEMS = (CONFIG, *PARTS)


@dataclass(frozen=True)
class Source:
    """One side of a plan, materialised."""

    role: str  # "baseline" or "proposed"
    label: str  # "current project", a folder as given, "git main~1"
    folder: Path  # the materialised version: cvm.yaml, rules/, policies/, templates/
    composition: str  # how the version was put together, for the plan's header
    origins: Mapping[str, str]  # an item or file (posix path in ``folder``) -> where it is
    note: str | None = None  # added to this side's validation errors
    config_name: str = CONFIG  # the configuration file's name where it came from

    @property
    def config_file(self) -> Path:
        return self.folder / CONFIG

    def real(self, rel: str) -> str:
        """Where a file of this version really is: a path, or REV:path."""
        parts = rel.split("/")
        for i in range(len(parts), 0, -1):
            origin = self.origins.get("/".join(parts[:i]))
            if origin is not None:
                return "/".join([origin, *parts[i:]])
        return rel

    def inside(self, file: str) -> str:
        """A file by its path inside the version (one outside it, the data: as it is)."""
        path = Path(file)
        if not path.is_absolute():
            return path.as_posix()
        try:
            return path.resolve().relative_to(self.folder.resolve()).as_posix()
        except ValueError:
            return file  # not part of the version (the data, for instance)

    def shown(self, file: str | None) -> str | None:
        """A problem's file as the user knows it (materialised paths become real ones)."""
        if file is None:
            return None
        rel = self.inside(file)
        return self.real(rel) if rel.split("/")[0] in ITEMS else file


class SideError(InputError):
    """A problem in one side of a plan: says which side, and the real files."""

    def __init__(self, source: Source, what: str, problems: Sequence[Problem]) -> None:
        self.header = f"the {source.role} version ({source.label}) {what}:"
        self.note = source.note
        super().__init__([dataclasses.replace(p, file=source.shown(p.file))
                          for p in in_file_order(problems)])  # as cvm validate lists them

    def format(self) -> str:
        lines = [printable(self.header, lines=False)]  # a folder's name as given
        lines += ["  " + line for p in self.problems for line in p.format().splitlines()]
        if self.note:
            lines.append(f"  note: {printable(self.note)}")
        return "\n".join(lines)


def _and(items: Sequence[str]) -> str:
    return listed(tuple(items))


def _or(items: Sequence[str]) -> str:
    return listed(tuple(items), "or")


def _shown(item: str, config_name: str) -> str:
    return config_name if item == CONFIG else f"{item}/"


def _listed(config_name: str) -> str:
    return f"{config_name}, rules/, policies/ and templates/"


def current(config: Config, into: Path) -> Source:
    """The project as it is (its configuration file stored as cvm.yaml)."""
    into.mkdir(parents=True)
    shutil.copyfile(config.file, into / CONFIG)
    origins = {CONFIG: str(config.file)}
    for part in PARTS:
        if (config.project / part).is_dir():
            shutil.copytree(config.project / part, into / part)
        origins[part] = str(config.project / part)
    return Source("baseline", "current project", into, f"current project ({config.project})",
                  origins, config_name=config_names(config)[0])


def config_names(config: Config) -> tuple[str, ...]:
    """Where a folder's configuration file may be, first found first: the project's own
    (its path in the project, ``conf/prod.yaml``; its name), else a cvm.yaml."""
    names = []
    with contextlib.suppress(ValueError):  # outside the project: by its name
        names.append(config.file.resolve().relative_to(config.project.resolve()).as_posix())
    names += [config.file.name, CONFIG]
    return tuple(dict.fromkeys(names))


def from_folder(folder: Path, into: Path, *, base: Source, role: str,
                overlay: bool = False, names: Sequence[str] = (CONFIG,)) -> Source:
    """A version given as a folder (see the module's docstring); ``names``: where its
    configuration file may be (``config_names``)."""
    if not folder.is_dir():
        raise InputError(Problem("not a folder", file=str(folder), hint="give a folder laid "
                                 "out like the project (cvm.yaml, rules/, policies/, templates/)"))
    name = next((n for n in names if (folder / n).is_file()), base.config_name)
    held = [i for i in ITEMS if ((folder / name).is_file() if i == CONFIG
                                 else (folder / i).is_dir())]
    if not held:
        raise InputError(Problem(f"holds none of {name}, rules/, policies/ or templates/",
                                 file=str(folder), hint="lay it out like the project"))
    label = str(folder)
    origins = dict(base.origins)
    if overlay:
        shutil.copytree(base.folder, into)
        files = [CONFIG] if CONFIG in held else []
        files += sorted(p.relative_to(folder).as_posix() for part in held if part != CONFIG
                        for p in (folder / part).rglob("*") if p.is_file())
        for rel in files:
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / (name if rel == CONFIG else rel), into / rel)
            origins[rel] = f"{label}/{name if rel == CONFIG else rel}"
        shown = [name if rel == CONFIG else rel for rel in files]
        return Source(role, label, into, f"{label}: laid over the baseline file by file "
                      f"({', '.join(shown) or 'no files'})", origins,
                      config_name=name if CONFIG in held else base.config_name)
    if CONFIG in held:
        into.mkdir(parents=True)
        shutil.copyfile(folder / name, into / CONFIG)
        for part in held[1:]:
            shutil.copytree(folder / part, into / part)
        origins = {item: f"{label}/{name if item == CONFIG else item}" for item in ITEMS}
        # the configuration alone: most likely meant to be laid over the baseline
        note = (f"{label} holds {name} but no {_or([f'{p}/' for p in PARTS])}: as a complete "
                "project, what it lacks is not in the version; add --overlay to lay only the "
                "files it holds over the baseline's") if held == [CONFIG] and \
            role == "proposed" else None
        return Source(role, label, into, f"{label}: a complete project ({_listed(name)})",
                      origins, note, name)
    shutil.copytree(base.folder, into)
    for part in held:
        shutil.rmtree(into / part, ignore_errors=True)
        shutil.copytree(folder / part, into / part)
        origins[part] = f"{label}/{part}"
    kept = [_shown(i, base.config_name) for i in ITEMS if i not in held]
    verb = "replaces" if len(held) == 1 else "replace"
    mine = _and([_shown(p, name) for p in held])
    other = "the baseline's" if role == "proposed" else "the current project's"
    note = (f"{_and([f'{label}/{p}/' for p in held])} {verb} the baseline's {mine} whole (a "
            f"file {'it lacks' if len(held) == 1 else 'they lack'} is deleted); add --overlay "
            "to lay only the files it holds over the baseline's") if role == "proposed" else None
    return Source(role, label, into, f"{label}: {mine} {verb} {other}; {_and(kept)} "
                  f"{'is' if len(kept) == 1 else 'are'} {other}", origins, note,
                  base.config_name)


def from_ref(config: Config, into: Path, ref: str, *, role: str) -> Source:
    """A version at a git revision: cvm.yaml, rules/, policies/ and templates/, complete."""
    project = config.project
    try:
        top = Path(_git(project, "rev-parse", "--show-toplevel").decode().strip()).resolve()
        _git(project, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except _GitError as exc:
        detail = str(exc).splitlines()[0] if str(exc) else "unknown revision"
        raise InputError(Problem(
            f"git revision {ref!r} not found in the repository of {project} ({detail})",
            key=f"--{role}-ref",
            hint="a branch, tag or commit of the project's repository, e.g. main~1")) from None
    prefix = project.resolve().relative_to(top).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    try:
        cfg = config.file.resolve().relative_to(top).as_posix()
    except ValueError:
        raise InputError(Problem(f"the configuration file {config.file} is outside the "
                                 f"repository of {project}", key=f"--{role}-ref",
                                 hint="compare folders with --proposed instead")) from None
    wanted = {cfg: CONFIG, **{f"{prefix}{part}": part for part in PARTS}}
    listed = _git(top, "ls-tree", "-r", "-z", "--name-only", ref, "--", *wanted)
    files = [f for f in listed.decode().split("\0") if f]
    if cfg not in files:
        raise InputError(Problem(f"{ref}:{cfg}: not in that revision", key=f"--{role}-ref",
                                 hint="a revision in which the project has its "
                                 f"{config.file.name}"))
    into.mkdir(parents=True)
    present = [path for path in wanted if any(f == path or f.startswith(path + "/")
                                              for f in files)]
    data = _git(top, "archive", "--format=tar", ref, "--", *present)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            rel = CONFIG if member.name == cfg else member.name[len(prefix):]
            if rel.split("/")[0] not in ITEMS or ".." in rel.split("/"):
                continue
            target = into / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            extracted = tar.extractfile(member)
            if extracted is not None:
                target.write_bytes(extracted.read())
    origins = {item: f"{ref}:{path}" for path, item in wanted.items()}
    return Source(role, f"git {ref}", into, f"git {ref}: {_listed(config.file.name)} at that "
                  "revision", origins, config_name=config.file.name)


def sides(config: Config, tmp: Path, *, proposed: Path | None = None,
          proposed_ref: str | None = None, baseline: Path | None = None,
          baseline_ref: str | None = None, overlay: bool = False) -> tuple[Source, Source]:
    """The baseline (the current project unless a folder or revision is given) and the
    proposed version (a folder over the baseline, or a revision)."""
    now = current(config, tmp / "current")
    names = config_names(config)
    if baseline is not None:
        base = from_folder(baseline, tmp / "baseline", base=now, role="baseline", names=names)
    elif baseline_ref is not None:
        base = from_ref(config, tmp / "baseline", baseline_ref, role="baseline")
    else:
        base = now
    if proposed is not None:
        prop = from_folder(proposed, tmp / "proposed", base=base, role="proposed",
                           overlay=overlay, names=names)
    elif proposed_ref is not None:
        prop = from_ref(config, tmp / "proposed", proposed_ref, role="proposed")
    else:
        raise InputError(Problem("give --proposed FOLDER or --proposed-ref REV",
                                 key="--proposed"))
    return base, prop


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
