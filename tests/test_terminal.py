"""Colour and progress bars on a terminal only: piped output stays plain, NO_COLOR turns the
colour off, --quiet stays silent; shell completion works."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from typer.testing import CliRunner

from engine.cli import app
from tests.ci_jobs import main_job_only
from tests.conftest import copy_example_project

CVM = str(Path(sys.executable).parent / "cvm")
PLAIN_LINE = re.compile(r"\[ *[0-9]+\.[0-9] s\] ")  # `  [   1.8 s] features ...`
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|38;[0-9;]+|9[0-7])m")  # a foreground colour
# a cvm process on a pseudo-terminal (two to five seconds each): rich draws the colours and bars
# whatever the pandas, and the oldest job runs the same commands in the other tests
ON_A_TERMINAL = main_job_only("rich draws on a pseudo-terminal whatever the pandas; the oldest "
                              "job runs these commands in the other tests")


def _in_terminal(args: list[str], answer: tuple[bytes, bytes] | None = None,
                 **env: str) -> tuple[int, str]:
    """Run cvm with stdout and stderr on a pseudo-terminal, as a person sees it; ``answer``:
    (a question, what is typed once it is written)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    environ = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    proc = subprocess.Popen([CVM, *args], stdin=slave, stdout=slave, stderr=slave,
                            env={**environ, "TERM": "xterm-256color", **env})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 1 << 16)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
        if answer is not None and answer[0] in b"".join(chunks):
            os.write(master, answer[1])
            answer = None
    code = proc.wait()
    os.close(master)
    return code, b"".join(chunks).decode("utf-8", "replace")


@ON_A_TERMINAL
def test_a_run_on_a_terminal_shows_bars(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    code, text = _in_terminal(["run", "-p", str(project), "--out", str(tmp_path / "o")])
    assert code == 0, text
    assert "━" in text  # rich's bar
    for step in ("load", "features", "value", "models", "lifecycle", "decide", "allocate",
                 "render", "write"):
        assert f" {step} " in text, step
    assert not PLAIN_LINE.search(text), text  # not the plain progress lines
    assert "wrote output" in text or "wrote " in text


@ON_A_TERMINAL
def test_score_on_a_terminal_shows_bars(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    code, text = _in_terminal(["score", "-p", str(project), "--out", str(tmp_path / "o")])
    assert code == 0 and "━" in text and " features " in text
    assert "Scored 2,000 customers" in text


@ON_A_TERMINAL
def test_plan_on_a_terminal_shows_bars(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    proposed = tmp_path / "proposed" / "policies"
    proposed.mkdir(parents=True)
    text = (project / "policies" / "win_back.yaml").read_text()
    (proposed / "win_back.yaml").write_text(text.replace("{gte: 25}", "{gte: 5}"))
    code, text = _in_terminal(["plan", "-p", str(project), "--overlay", "--proposed",
                               str(proposed.parent)])
    assert code == 0 and "━" in text
    for step in ("baseline", "proposed: lifecycle", "compare"):
        assert f" {step} " in text, step


@ON_A_TERMINAL
def test_no_color_keeps_bars_without_colour(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    code, text = _in_terminal(["run", "-p", str(project), "--out", str(tmp_path / "o")],
                              NO_COLOR="1")
    assert code == 0 and "━" in text and not COLOUR.search(text)
    code, text = _in_terminal(["validate", "-p", str(tmp_path / "none")], NO_COLOR="1")
    assert code == 1 and text.startswith("error: ")


@ON_A_TERMINAL
def test_errors_are_coloured_on_a_terminal(tmp_path: Path) -> None:
    code, text = _in_terminal(["validate", "-p", str(tmp_path / "none")])
    assert code == 1 and COLOUR.search(text.split("error:")[0] + "error:")


@ON_A_TERMINAL
def test_quiet_stays_silent_on_a_terminal(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    code, text = _in_terminal(["run", "-q", "-p", str(project), "--out", str(tmp_path / "o")])
    assert (code, text) == (0, "")


def test_piped_output_is_plain(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    result = CliRunner().invoke(app, ["run", "-p", str(project), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0
    assert "\x1b" not in result.output
    lines = result.stderr.splitlines()
    assert lines and all(re.fullmatch(r"  \[ *[0-9]+\.[0-9] s\] .+ \.\.\.", line)
                         for line in lines), lines
    bad = CliRunner().invoke(app, ["validate", "-p", str(tmp_path / "none")])
    assert bad.stderr.startswith("error: ")


def test_shell_completion() -> None:
    env = {**os.environ, "_CVM_COMPLETE": "complete_bash", "COMP_WORDS": "cvm valid",
           "COMP_CWORD": "1"}
    done = subprocess.run([CVM], env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["validate"]
    # typer finds the shell among the command's parent processes, as from a user's terminal:
    # bash runs it as a child ("; true" keeps bash from replacing itself with the command).
    # Before, the test passed only when pytest itself ran under a shell, and failed when
    # started by a process that is none (setsid, a container's exec)
    shown = subprocess.run(["bash", "-c", f"'{CVM}' --show-completion; true"],
                           capture_output=True, text=True, env={**os.environ, "SHELL": "/bin/bash"})
    assert "_CVM_COMPLETE=complete_bash" in shown.stdout


class _Recorder:
    def __init__(self) -> None:
        self.ticks: list[tuple[str, int, int]] = []

    def tick(self, label: str, done: int, total: int) -> None:
        self.ticks.append((label, done, total))


def test_allocation_and_model_fits_report_inside_their_loops(
        tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    from engine import terminal as term
    from engine.run.build import load_project
    from engine.run.pipeline import compute

    assert isinstance(monkeypatch, pytest.MonkeyPatch)
    seen = _Recorder()
    monkeypatch.setattr(term, "_ACTIVE", seen)
    compute(load_project(copy_example_project(tmp_path)))
    labels = {label for label, _, _ in seen.ticks}
    assert "allocate: customers decided" in labels
    assert any(label.startswith("fit ") and label.endswith(": iterations") for label in labels)
    assert all(0 <= done <= total for _, done, total in seen.ticks)
