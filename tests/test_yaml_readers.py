"""engine/project/yamlio.py reads with libyaml when PyYAML has it (yaml.CSafeLoader) and with
PyYAML's pure-Python reader when not: both give the same documents, positions and problems.
Only a syntax error's wording comes from the reader itself (libyaml and PyYAML word it
differently); its file, line, column and hint are the same."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.errors import InputError
from engine.project import yamlio

ROOT = Path(__file__).resolve().parents[1]
TEXTS = {
    "a tag": "id: !!python/object:os.system x\n",
    "a tag on a mapping": "when: !!map {a: 1}\n",
    "a local tag": "then:\n  action: !custom win_back\n",
    "an exclamation mark in text": "description: 'Welcome!'\nnote: hi! there\n",
    "a tag after one in text": "description: Welcome!\nid: !!str 5\n",
    "a merge": "base: &b {a: 1, b: 2}\nuse:\n  <<: *b\n  b: 3\n",
    "a duplicate key": "a: 1\nb: 2\na: 3\n",
    "a date that is none": "as_of: 2025-02-30\n",
    "an alias": "a: &a [1, {b: 2}]\nc: *a\n",
    "a syntax error": "a: [1, 2\nb: 3\n",
    "a tab": "a:\n\tb: 1\n",
    "an undefined alias": "a: *nowhere\n",
    "two documents": "a: 1\n---\nb: 2\n",
}


def _files() -> dict[str, str]:
    found = {}
    for folder in ("rules", "policies", "triggers", "policy_tests", "examples", "tests/cases"):
        for path in sorted((ROOT / folder).rglob("*.yaml")):
            if path.parent.name == "bad_input":  # the case lists, not files a user edits
                continue
            found[str(path.relative_to(ROOT))] = path.read_text(encoding="utf-8")
    found[".ci/cvm.yaml"] = (ROOT / "cvm.yaml").read_text(encoding="utf-8")
    return {**found, **TEXTS}


def _read(text: str, name: str) -> object:
    try:
        doc = yamlio.load_text(text, file=name)
    except InputError as exc:
        return [(p.message if not p.message.startswith("YAML syntax error:") else "syntax",
                 p.file, p.line, p.column, p.key, p.hint) for p in exc.problems]
    return repr(doc.data), doc.positions, doc.key_positions


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")
def test_libyaml_and_pure_python_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    texts = _files()
    assert len(texts) > 80
    with_libyaml = {name: _read(text, name) for name, text in texts.items()}
    monkeypatch.setattr(yamlio, "_Loader", yaml.SafeLoader)
    pure = {name: _read(text, name) for name, text in texts.items()}
    assert [n for n in texts if with_libyaml[n] != pure[n]] == []
    assert "tag" in str(with_libyaml["a tag on a mapping"])
    assert "'!custom'" in str(with_libyaml["a local tag"])
    assert "Welcome!" in str(with_libyaml["an exclamation mark in text"])
    assert "'!!str'" in str(with_libyaml["a tag after one in text"])


def test_deep_nesting_is_an_input_error_with_either_reader(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the 100 levels a document may hold (which the reader must first build), libyaml
    stops at 1,000 levels; PyYAML's pure-Python reader recursed until Python's stack ran out
    (a RecursionError: a traceback instead of the file's problem)."""
    text = "id: " + "[" * 500 + "]" * 500 + "\n"
    monkeypatch.setattr(yamlio, "_Loader", yaml.SafeLoader)
    with pytest.raises(InputError) as caught:
        yamlio.load_text(text, file="policies/deep.yaml")
    [problem] = caught.value.problems
    assert (problem.file, problem.line, problem.column) == ("policies/deep.yaml", 1, None)
    assert problem.message == "YAML syntax error: values nested too deeply for the YAML reader"
