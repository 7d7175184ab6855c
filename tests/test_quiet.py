"""`--quiet` prints nothing but errors: every command that takes it, on every bundled example,
prints nothing at all (stdout and stderr) when nothing goes wrong, warnings included (`cvm fit`
on the retail example cannot fit Pareto/NBD, a warning)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = {"retail": (ROOT, "policies/win_back.yaml"),
            "cdnow": (ROOT / "examples" / "cdnow", "policies/win_back.yaml")}


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_quiet_prints_nothing_on_every_command(name: str, tmp_path: Path) -> None:
    project, policy = EXAMPLES[name]
    proposed = tmp_path / "proposed"
    (proposed / "policies").mkdir(parents=True)
    (proposed / policy).write_text((project / policy).read_text().replace(
        "priority:", "priority: 1 #", 1))
    out, base = tmp_path / "out", ["--project", str(project), "--quiet"]
    commands = {
        "validate": ["validate", *base],
        "score": ["score", *base, "--out", str(out / "score")],
        "decide": ["decide", *base, "--out", str(out / "decide")],
        "run": ["run", *base, "--out", str(out / "run")],
        "report": ["report", *base, "--out", str(out / "run")],
        "fit": ["fit", *base, "--out", str(out / "fit")],
        "plan": ["plan", *base, "--overlay", "--proposed", str(proposed), "--report",
                 str(tmp_path / "plan.md")],
    }
    for command, args in commands.items():
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, f"cvm {command} on {name}: {result.stderr}"
        assert (result.stdout, result.stderr) == ("", ""), f"cvm {command} --quiet on {name}"
