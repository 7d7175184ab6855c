"""Commands that several test files run identically on a bundled example (the --json documents
of tests/test_examples.py, tests/test_json_output.py and tests/test_fix17_json.py): each runs
once per session (tests/conftest.py, ``shared_commands``) and every test asserts on its result.

Each command runs with an empty history of its own, as in a test of its own, and its outputs go
to a folder of the session that no test writes into. What a command changed in the example's
own files is recorded, so that the tests that promise the example is left as it was still
check it for every command, whichever test ran it first."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

PROJECT_PARTS = ("cvm.yaml", "rules", "policies", "templates", "policy_tests")


def example_files(folder: Path) -> dict[str, str]:
    """SHA-256 of each of an example's own files (its YAML, templates and policy tests)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for sub in PROJECT_PARTS
            for p in ([folder / sub] if (folder / sub).is_file() else
                      sorted((folder / sub).rglob("*"))) if p.is_file()}


@dataclass(frozen=True)
class Done:
    exit_code: int
    stdout: str
    stderr: str
    out: Path  # the folder given as OUT in the arguments (it may not exist)
    changed: tuple[str, ...]  # the example's own files the command changed (none, we hope)


class SharedCommands:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self._done: dict[tuple[str, ...], Done] = {}

    def proposal(self, project: Path, file: str, old: str, new: str) -> Path:
        """A folder holding ``file`` of ``project`` with ``old`` replaced by ``new`` (for
        ``cvm plan --overlay --proposed``); the same folder for the same change."""
        text = (project / file).read_text()
        assert old in text, f"{file} no longer holds {old!r}: update the proposed change"
        changed = text.replace(old, new)
        folder = self.tmp / "proposals" / hashlib.sha256(
            f"{project}\0{file}\0{changed}".encode()).hexdigest()[:16]
        if not folder.exists():
            (folder / file).parent.mkdir(parents=True)
            (folder / file).write_text(changed)
        return folder

    def run(self, project: Path, *args: str) -> Done:
        """``cvm ARGS`` (``OUT`` in them: a folder of the command's own), run once."""
        key = (str(project), *args)
        if key not in self._done:
            n = len(self._done)
            out = self.tmp / f"out{n}"
            from engine.cli import app

            before = example_files(project)
            result = CliRunner().invoke(
                app, [out.as_posix() if a == "OUT" else a for a in args],
                env={"CVM_HISTORY_URL": str(self.tmp / f"history{n}.sqlite")})
            after = example_files(project)
            changed = tuple(sorted(k for k in before.keys() | after.keys()
                                   if before.get(k) != after.get(k)))
            self._done[key] = Done(result.exit_code, result.stdout, result.stderr, out, changed)
        return self._done[key]

    # the --json documents, with the same arguments wherever they are asked for
    def explain_json(self, project: Path, customer: str) -> Done:
        return self.run(project, "explain", customer, "--json", "--project", str(project))

    def score_json(self, project: Path) -> Done:
        return self.run(project, "score", "--json", "--project", str(project), "--out", "OUT")

    def fit_json(self, project: Path) -> Done:
        return self.run(project, "fit", "--json", "--project", str(project), "--out", "OUT")

    def plan_json(self, project: Path, file: str, old: str, new: str) -> Done:
        """``cvm plan --json --overlay`` with ``file`` changed as ``proposal`` says."""
        return self.run(project, "plan", "--json", "--project", str(project), "--overlay",
                        "--proposed", str(self.proposal(project, file, old, new)))

    def run_example(self, project: Path) -> Done:
        """``cvm run`` as the README's main command runs it (progress on standard error)."""
        return self.run(project, "run", "--project", str(project), "--out", "OUT")
