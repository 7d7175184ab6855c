"""Writing into an output folder (checked by engine.output.folder): every command that writes
files goes through ``writing`` (or ``write_files`` for the files ``cvm plan`` is told to write).

The new files are staged in a private temporary folder inside the output folder; then, in one
commit under a lock,

1. the folder is checked again (a file may have appeared since the check before the work);
2. the record is written listing both the previous and the new files (so that a crash halfway
   leaves no file the engine cannot account for);
3. the new files are renamed into place (``manifest.json`` last), each earlier file kept under
   a second name until all are placed: a rename refused halfway puts them all back;
4. the files this command wrote last time and no longer writes are removed (no other
   command's; one that cannot be removed stays in the record);
5. the final record is written.

An error before step 4 leaves the earlier output untouched. Files are created like any
program's (mode 0666 less the umask): ``tempfile.mkstemp`` would make them private.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from engine.errors import InputError, OutputError, Problem
from engine.interrupts import raise_if_stopped
from engine.output.folder import (
    ABOUT,
    FILE_HINT,
    LAST,
    RECORD,
    TEMP_PREFIX,
    BadRecord,
    Guard,
    Scan,
    Target,
    check_file,
    check_folder,
    owned,
    read_record,
    refuse_foreign,
    scan_folder,
)
from engine.output.staging import clean_stale, hold, release


class Stage:
    """The private folder a command writes its new files into before the commit."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, rel: str) -> Path:
        """Where to write the file that will be ``rel`` in the output folder."""
        path = self.folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        return path


class _WrappedOSError(Exception):
    """An OSError carried out of the staging, to be told apart from the staging's own."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class StagedWriteFailed(_WrappedOSError):
    """A staged file's write that failed on another thread, raised where the work waits for
    it (``engine.run.early``): the output folder's error, wherever it comes out."""


class _NotOutput(_WrappedOSError):
    """An OSError of the work done while the files are staged (reading an input, a cluster
    lost): not the output folder's."""


@contextlib.contextmanager
def not_the_output() -> Iterator[None]:
    """Work inside ``writing`` that reads or computes: its OSError is not reported as the
    output folder's "cannot write here" (a file that cannot be read is an input error naming
    the file; any other OSError is raised as it was)."""
    try:
        yield
    except OSError as exc:
        raise _NotOutput(exc) from exc


def _unreadable(exc: OSError) -> Exception:
    if not exc.filename:
        return exc
    return InputError(Problem(f"cannot be read: {exc.strerror or exc}", file=str(exc.filename),
                              hint="check the file's permissions, or whether it was moved or "
                              "removed while the command ran"))


@contextlib.contextmanager
def writing(target: Target, guard: Guard, command: str) -> Iterator[Stage]:
    """Stage a command's files (``stage.path(rel)``), then commit them into the output folder
    ``target``; the command's files from last time that it does not write again are removed."""
    with _writing(target, guard, command, replace=True, whole=True) as stage:
        yield stage


def write_files(targets: list[Target], guard: Guard, command: str,
                writers: list[Callable[[Path], object]]) -> None:
    """Write single named files (``cvm plan --report``/``--changes``), each recorded in the
    record of its folder; ``writers[i](path)`` writes ``targets[i]``."""
    for target, write in zip(targets, writers, strict=True):
        check_file(target, guard, command)
        folder = Target(target.path.parent, target.option)
        with _writing(folder, guard, command, replace=False, whole=False) as stage:
            write(stage.path(target.path.name))


@contextlib.contextmanager
def _writing(target: Target, guard: Guard, command: str, *, replace: bool,
             whole: bool) -> Iterator[Stage]:
    if whole:
        check_folder(target, guard)
    folder = target.path
    created = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):  # made and held at once: never taken for a killed command's
            stage = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=folder))
            held = hold(stage)
            clean_stale(folder)
    except OSError as exc:
        raise _fail(target, exc) from None
    done = False
    try:
        yield Stage(stage)
        raise_if_stopped()  # a Ctrl-C a callback swallowed: the output is not committed
        with _locked(folder):
            _commit(target, guard, command, stage, replace=replace, whole=whole)
        done = True
    except OSError as exc:
        raise _fail(target, exc) from None
    except StagedWriteFailed as exc:
        raise _fail(target, exc.error) from None
    except _NotOutput as exc:
        raise _unreadable(exc.error) from exc.error
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        release(held)
        if not done:
            for path in created:  # innermost first: only folders this call made, if empty
                with contextlib.suppress(OSError):
                    path.rmdir()


def _commit(target: Target, guard: Guard, command: str, stage: Path, *, replace: bool,
            whole: bool) -> None:
    folder = target.path
    try:  # read (and so checked) before anything is renamed or removed
        scan = scan_folder(folder) if whole else Scan(read_record(folder))
    except BadRecord as exc:
        raise exc.problem(target, guard, "refused as the output folder: ") from None
    if whole:  # someone may have added a file since the check before the work
        refuse_foreign(target, scan, guard)
    new = sorted((p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file()),
                 key=lambda rel: (rel == LAST, rel))
    listed = owned(scan.written)
    for rel in new:
        parts = rel.split("/")
        inside = next((n for n in ("/".join(parts[:i]) for i in range(1, len(parts) + 1))
                       if n in scan.nested), None)
        if inside is not None:
            raise OutputError(target.problem(
                f"refused: {guard.show(folder / inside)}/ is another engine output (with a "
                f"record of its own), where this command writes {rel}",
                "choose another output folder"))
        dest = folder / rel
        if (dest.exists() or dest.is_symlink()) and (rel not in listed or dest.is_dir()):
            raise OutputError(target.problem(
                f"refused: {guard.show(dest)} exists and was not written by CVM Engine",
                FILE_HINT))
    previous = scan.written.get(command, [])
    others = owned({k: v for k, v in scan.written.items() if k != command})
    stale = sorted(set(previous) - set(new) - others) if replace else []
    _write_record(folder, {**scan.written, command: sorted({*previous, *new})})
    _place(folder, stage, new, scan.written)
    kept = [rel for rel in stale if not _remove(folder, rel, scan.nested, guard)]
    if kept:  # a re-trial: a disabled campaign's brief stayed, and nothing said so
        from engine.notices import warn

        warn(f"{guard.show(folder)}: could not remove {', '.join(kept)}, written by an earlier "
             f"{command} and no longer by this one: left in place, listed in the folder's "
             "record for the next command to remove")
    final = {**scan.written, command: sorted({*new, *kept} if replace else {*previous, *new})}
    _write_record(folder, {k: [f for f in v if (folder / f).is_file()]
                           for k, v in sorted(final.items())})


def _place(folder: Path, stage: Path, new: list[str], written: dict[str, list[str]]) -> None:
    """Rename the staged files into place, each over its earlier file at once; a rename
    refused halfway (a file made immutable, or held locked by another program), or a stop,
    puts every earlier file back (a link to itself: a symbolic link stays one), removes the
    new ones placed and the folders made for them, and restores the record, then is raised
    naming the file in the way: the folder is as it was, never half new. An earlier file that
    cannot be put back is kept, and said where."""
    aside = stage / ".earlier"  # a second name of each file replaced, on the same disk
    placed: list[tuple[Path, Path | None]] = []
    made: list[Path] = []
    try:
        for rel in new:
            dest, kept = folder / rel, None
            made += [p for p in reversed(dest.relative_to(folder).parents)
                     if p != Path(".") and not (folder / p).exists()]
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                if dest.is_symlink() or dest.is_file():
                    kept = aside / rel
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    _second_name(dest, kept)
                os.replace(stage / rel, dest)
            except OSError as exc:  # said at the output file, not the engine's own copy
                raise OSError(exc.errno, exc.strerror, str(dest)) from None
            placed.append((dest, kept))
    except BaseException as exc:
        lost = _put_back(folder, placed, [folder / p for p in made])
        if lost:  # kept out of the staging folder, which is removed next
            keep = folder / f".cvm-earlier-{secrets.token_hex(4)}"
            try:
                os.replace(aside, keep)
                where = f"kept in {keep}"
            except OSError:
                where = "and could not be kept"
            said = (f"{len(lost)} earlier file{'s' * (len(lost) != 1)} could not be put "
                    f"back ({', '.join(lost)}), {where}")
        else:
            with contextlib.suppress(OSError):
                _write_record(folder, written)
            said = "the earlier output is left as it was"
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"{exc.strerror or exc} ({said})", exc.filename) from None
        raise


def _second_name(path: Path, kept: Path) -> None:
    """Keep ``path`` (a file or a symbolic link) under ``kept`` too: a hard link, else a copy."""
    try:
        os.link(path, kept, follow_symlinks=False)
    except OSError:  # a disk without hard links (or a file refusing one)
        if path.is_symlink():
            os.symlink(os.readlink(path), kept)
        else:
            shutil.copy2(path, kept)


def _put_back(folder: Path, placed: list[tuple[Path, Path | None]], made: list[Path]
              ) -> list[str]:
    """Undo ``_place``'s renames, last first; the files that could not be put back."""
    lost = []
    for dest, kept in reversed(placed):
        try:
            if kept is None:
                dest.unlink()
            else:
                os.replace(kept, dest)
        except OSError:
            lost.append(dest.relative_to(folder).as_posix())
    for path in reversed(made):  # the folders made for the new files, emptied again
        with contextlib.suppress(OSError):
            path.rmdir()
    return lost


def _remove(folder: Path, rel: str, nested: set[str], guard: Guard) -> bool:
    """Remove an earlier file of the command's that it no longer writes; False when it stays
    (one that cannot be removed stays in the record, for the next command to remove)."""
    parts = rel.split("/")
    if any("/".join(parts[:i]) in nested for i in range(1, len(parts))):
        return True
    path = folder / rel
    # defence in depth below the check of the record: never remove what resolves outside the
    # folder (a link in the way) or onto an input of the project
    real, home = path.resolve(), folder.resolve()
    if home not in real.parents or real in guard.files or real == guard.project \
            or any(f == real or f in real.parents for f in guard.folders) \
            or (path.is_dir() and not path.is_symlink()):
        return True
    try:
        path.unlink(missing_ok=True)
    except OSError:
        return False
    parent = path.parent
    while parent != folder:  # folders this removal emptied (briefs/ of a run without campaigns)
        try:
            parent.rmdir()
        except OSError:
            break
        parent = parent.parent
    return True


def _write_record(folder: Path, written: dict[str, list[str]]) -> None:
    text = json.dumps({"about": ABOUT, "version": 1, "written": {
        k: v for k, v in sorted(written.items()) if v}}, indent=1) + "\n"
    tmp = _new_file(folder, "record")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / RECORD)


def _new_file(folder: Path, what: str) -> Path:
    """A new, empty temporary file in ``folder``, created like any program's file (mode 0666
    less the umask; ``tempfile.mkstemp`` would make it private)."""
    path = folder / f"{TEMP_PREFIX}{what}-{secrets.token_hex(6)}"
    with path.open("xb"):
        pass
    return path


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Two commands committing into one folder at once take turns (POSIX systems)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _fail(target: Target, exc: OSError) -> OutputError:
    reason = exc.strerror or str(exc)
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        reason = "a file is in the way, expected a folder"
    where = f"{exc.filename}: " if exc.filename else ""
    return OutputError(target.problem(f"cannot write here: {where}{reason}",
                                      "choose another output folder with --out, or fix its "
                                      "permissions"))
