"""The recording tool of the golden outputs (python -m tests.golden): its options, and that
asking for help never rewrites the recorded fingerprints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests import golden


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two recorded stacks (this one and another) in a file of the test's own, and the
    commands' fingerprints replaced by a fixed set (running every command is tests/test_golden)."""
    path = tmp_path / "fingerprints.json"
    here = golden.stack()
    path.write_text(json.dumps({"about": golden.ABOUT,
                                "common": {"a/report.html": "r0", "a/run/output": "o0"},
                                "stacks": {here: {"a/value.csv": "v-here"},
                                           "numpy 0.1, scipy 0.1, openblas Zen": {
                                               "a/value.csv": "v-other"}}}))
    monkeypatch.setattr(golden, "FINGERPRINTS", path)
    return path


def _found(monkeypatch: pytest.MonkeyPatch, prints: dict[str, str]) -> None:
    monkeypatch.setattr(golden, "fingerprints", lambda tmp: dict(prints))


def test_help_prints_the_options_and_writes_nothing(
        recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = recorded.read_bytes()
    _found(monkeypatch, {"a/report.html": "r1"})
    with pytest.raises(SystemExit) as stop:
        golden.main(["--help"])
    assert stop.value.code == 0
    assert "--add" in capsys.readouterr().out
    assert recorded.read_bytes() == before


def test_an_unknown_option_is_refused_and_writes_nothing(
        recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = recorded.read_bytes()
    _found(monkeypatch, {"a/report.html": "r1"})
    with pytest.raises(SystemExit) as stop:
        golden.main(["--ad"])
    assert stop.value.code == 2
    assert recorded.read_bytes() == before


def test_shared_updates_the_outputs_every_stack_shares_in_every_stack(
        recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _found(monkeypatch, {"a/report.html": "r1", "a/run/output": "o0", "a/value.csv": "v-here"})
    assert golden.main(["--shared"]) == 0
    stacks = golden.load()
    assert {name: found["a/report.html"] for name, found in stacks.items()} == {
        golden.stack(): "r1", "numpy 0.1, scipy 0.1, openblas Zen": "r1"}
    assert stacks["numpy 0.1, scipy 0.1, openblas Zen"]["a/value.csv"] == "v-other"


def test_shared_refuses_a_change_to_a_stacks_own_output(
        recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = recorded.read_bytes()
    _found(monkeypatch, {"a/report.html": "r1", "a/run/output": "o0", "a/value.csv": "v-new"})
    assert golden.main(["--shared"]) == 1
    assert recorded.read_bytes() == before
    assert capsys.readouterr().err == (
        "not written: a/value.csv differs and is recorded per stack (the fitted figures reach "
        "it): record every stack again (python -m tests.golden, then --add on each other)\n")


def test_shared_refuses_a_new_or_removed_output_and_an_unrecorded_stack(
        recorded: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    before = recorded.read_bytes()
    _found(monkeypatch, {"a/report.html": "r0", "a/value.csv": "v-here", "a/new.csv": "n"})
    assert golden.main(["--shared"]) == 1
    assert capsys.readouterr().err == (
        "not written: a/new.csv is new, a/run/output is no longer written: record every stack "
        "again (python -m tests.golden, then --add on each other)\n")
    monkeypatch.setattr(golden, "stack", lambda: "numpy 9.9, scipy 9.9, openblas Zen")
    assert golden.main(["--shared"]) == 1
    assert capsys.readouterr().err == (
        "not written: numpy 9.9, scipy 9.9, openblas Zen is not recorded (--add records it)\n")
    assert recorded.read_bytes() == before
