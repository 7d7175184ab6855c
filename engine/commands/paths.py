"""The paths a command is given, checked to be what each option names: a folder given where a
file is expected, or a file where a folder is, is an input problem (exit 1) said in the
engine's words, not the option parser's usage error (exit 2). An output file that is a folder
is the output check's (``engine.output.folder.check_file``, exit 3)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import InputError, OutputError, Problem

_FILE_HINT = "name the file itself"
# the parameter, its option and what it names
FILES = {"config": ("--config", "a configuration file",
                    "name the file itself (cvm.yaml), or give its folder with --project"),
         "spend": ("--spend", "a marketing-spend file (CSV or YAML)", _FILE_HINT),
         "key_file": ("--key-file", "a file holding the key", _FILE_HINT)}
FOLDERS = {"project": "--project", "baseline": "--baseline", "proposed": "--proposed",
           "folder": "FOLDER"}
_FOLDER_HINT = "name the folder holding cvm.yaml (a configuration file of another name: " \
    "--config FILE)"


def check_kinds(given: Mapping[str, Any], command: str = "") -> None:
    """Raise InputError for the first path of ``given`` (a command's parameters) that is a
    folder where a file is expected, or a file where a folder is (``cvm init``'s FOLDER, a
    folder it makes, is its own to refuse; ``--scratch`` a folder the Dask engine writes)."""
    for name, (option, expected, hint) in FILES.items():
        path = given.get(name)
        if isinstance(path, Path) and path.is_dir():
            raise InputError(Problem(f"is a folder, expected {expected}", file=str(path),
                                     key=option, hint=hint))
    for name, option in FOLDERS.items():
        path = given.get(name)
        if isinstance(path, Path) and path.is_file() and not (command == "init" and
                                                               name == "folder"):
            raise InputError(Problem("is a file, expected a project folder", file=str(path),
                                     key=option, hint=_FOLDER_HINT))
    scratch = given.get("scratch")
    if isinstance(scratch, Path) and scratch.exists() and not scratch.is_dir():
        raise OutputError(Problem("is a file, expected a folder", file=str(scratch),
                                  key="--scratch", hint="give --scratch a folder, or leave it "
                                  "out for a temporary folder"))
