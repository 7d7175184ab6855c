"""A template's text is parsed and turned into Python once per process (the Python Jinja2
generates depends on the text, its name and the sandbox's settings, not on its file): the same
text in another project folder only compiles, and an error is still said at its line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.errors import InputError
from engine.project.templates import Templates
from engine.render import generated
from engine.render.sandbox import Sandbox, render_template

SHOWN = "templates/{}".format
TEXT = b"Hello {{ name }}\n{% for x in items %}{{ x }} {% endfor %}\n{{ missing.part }}\n"


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The templates generated (by name), nothing kept from before."""
    monkeypatch.setattr(generated, "_KEPT", type(generated._KEPT)())
    made: list[str | None] = []
    generate = Sandbox._generate

    def counting(self: Sandbox, source: Any, name: str | None, *args: Any,
                 **kwargs: Any) -> Any:
        made.append(name)
        return generate(self, source, name, *args, **kwargs)

    monkeypatch.setattr(Sandbox, "_generate", counting)
    return made


def _env(folder: Path, text: bytes) -> Sandbox:
    return Sandbox(Templates(folder, (("brief.md.j2", text),)), trim=True)


def test_the_same_text_elsewhere_is_generated_once(tmp_path: Path,
                                                   generations: list[str | None]) -> None:
    context = {"name": "Ada", "items": [1, 2], "missing": {"part": "p"}}
    first = render_template(_env(tmp_path / "a", TEXT), "brief.md.j2", context, str)
    second = render_template(_env(tmp_path / "b", TEXT), "brief.md.j2", context, str)
    assert first == second == "Hello Ada\n1 2 p\n"
    assert generations == ["brief.md.j2"]
    render_template(_env(tmp_path / "c", TEXT + b"!"), "brief.md.j2", context, str)
    assert generations == ["brief.md.j2", "brief.md.j2"]


def test_an_error_is_said_at_its_line(tmp_path: Path, generations: list[str | None]) -> None:
    context = {"name": "Ada", "items": []}
    with pytest.raises(InputError):
        render_template(_env(tmp_path / "a", TEXT), "brief.md.j2", context, str)
    with pytest.raises(InputError) as info:
        render_template(_env(tmp_path / "b", TEXT), "brief.md.j2", context, SHOWN)
    assert generations == ["brief.md.j2"]
    problem = info.value.problems[0]
    assert (problem.message, problem.file, problem.line) == (
        "'missing' is undefined", "templates/brief.md.j2", 3)
    broken = b"Hello {{ name }\n"
    for folder in ("a", "b"):  # a text that does not parse is never kept
        with pytest.raises(InputError) as info:
            render_template(_env(tmp_path / folder, broken), "brief.md.j2", context, SHOWN)
        assert info.value.problems[0].line == 1
    assert generations == ["brief.md.j2"]
    assert len(generated._KEPT) == 1


def test_each_setting_has_its_own_python(tmp_path: Path,
                                         generations: list[str | None]) -> None:
    """The briefs' sandbox (trim) and the report's (no trim) generate the same text apart,
    and so do two names whose escaping differs (HTML escaped, Markdown not)."""
    templates = Templates(tmp_path, (("a.md.j2", TEXT), ("a.html.j2", TEXT)))
    for trim in (True, False):
        for name in ("a.md.j2", "a.html.j2"):
            Sandbox(templates, trim=trim).get_template(name)
    assert len(generations) == 4
    assert len(generated._KEPT) == 4


def test_a_text_whose_generation_does_counted_work_is_never_kept(
        tmp_path: Path, generations: list[str | None]) -> None:
    """Jinja2 evaluates a constant expression while it generates, through the sandbox's
    guarded filters: that work counts toward the limits on every compile, and the folded
    constant (a million characters from a 40-byte text) is not held for the process."""
    text = b'{{ "x"|center(999999) }}{{ name }}\n'
    counts = []
    for folder in ("a", "b"):
        env = _env(tmp_path / folder, text)
        env.reset()
        env.get_template("brief.md.j2")
        counts.append((env.steps, env.built))
    assert counts[0] == counts[1] and counts[0][1] >= 999_999
    assert generations == ["brief.md.j2", "brief.md.j2"]
    assert len(generated._KEPT) == 0
