"""README "The published CDNOW figures from the command line": the recipe runs as written (its
shell lines by bash, its `cvm` lines in-process) and prints the published parameters of Fader,
Hardie & Lee 2005, to the digits printed."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SECTION = README.split("### The published CDNOW figures from the command line")[1].split("\n## ")[0]
BLOCKS = re.findall(r"^```(\w*)\n(.*?)^```$", SECTION, flags=re.S | re.M)
RECIPE = next(body for lang, body in BLOCKS if lang == "bash")
SHOWN = [body for lang, body in BLOCKS if not lang]  # what the README says is printed
PUBLISHED = {  # FHL 2005 (Marketing Science; JMR), as published
    "BG/NBD": {"r": "0.243", "alpha": "4.414", "a": "0.793", "b": "2.426"},
    "Pareto/NBD": {"r": "0.553", "alpha": "10.578", "s": "0.606", "beta": "11.669"},
    "Gamma-Gamma": {"p": "6.25", "q": "3.74", "gamma": "15.44"},
}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[str]]]:
    """The recipe's shell lines run in a folder of their own (the repository's examples/
    beside them, as at the repository's root); its `cvm` command lines, to run."""
    folder = tmp_path_factory.mktemp("recipe")
    (folder / "examples").symlink_to(ROOT / "examples")
    lines = RECIPE.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("cvm "))
    assert all(line.startswith("cvm ") for line in lines[first:])
    subprocess.run(["bash", "-euc", "\n".join(lines[:first])], cwd=folder, check=True)
    return folder, [shlex.split(line)[1:] for line in lines[first:]]


def _agrees(printed: str, published: str) -> bool:
    """Equal to the coarser of the two precisions (half a unit of its last digit)."""
    digits = min(len(x.partition(".")[2]) for x in (printed, published))
    return abs(float(printed) - float(published)) <= 0.5 * 10.0 ** -digits + 1e-12


def _params(line: str) -> dict[str, str]:
    return dict(re.findall(r"(\w+) (-?[0-9.]+) \(se ", line))


def _run(folder: Path, args: list[str], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def test_the_recipe_prints_the_published_purchase_model_parameters(
        recipe: tuple[Path, list[list[str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, commands = recipe
    assert commands[0] == ["fit", "--project", "cdnow-papers", "--calibration-end",
                           "1997-09-30"]
    text = _run(folder, commands[0], monkeypatch)
    assert "Holdout: each purchase model fitted to 1997-09-30, predicting 1997-10-01 .. " \
        "1998-06-30 (2,357 customers)" in text
    assert SHOWN[0] in text  # the README shows what is printed
    lines = text.split("  parameters fitted to 1997-09-30:\n")[1].splitlines()
    for model in ("BG/NBD", "Pareto/NBD"):
        got = _params(next(t for t in lines if t.startswith(f"  {model} ")))
        assert list(got) == list(PUBLISHED[model])
        for name, value in PUBLISHED[model].items():
            assert _agrees(got[name], value), (model, name, got[name], value)


def test_the_recipe_prints_the_published_spend_model_parameters(
        recipe: tuple[Path, list[list[str]]], monkeypatch: pytest.MonkeyPatch) -> None:
    folder, commands = recipe
    assert commands[1][:2] == ["fit", "--config"]
    text = _run(folder, commands[1], monkeypatch)
    assert SHOWN[1] in text
    got = _params(next(t for t in text.splitlines() if t.startswith("  Gamma-Gamma  p ")))
    assert list(got) == list(PUBLISHED["Gamma-Gamma"])
    for name, value in PUBLISHED["Gamma-Gamma"].items():
        assert _agrees(got[name], value), (name, got[name], value)
    assert "  Gamma-Gamma fitted on 946 repeat buyers\n" in text
