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
