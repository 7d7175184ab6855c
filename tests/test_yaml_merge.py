"""YAML merge keys (``<<``) in CVM files: expanded once per mapping (no exponential blow-up),
a mapping merging itself refused at its line, and keys resolved as the merge spec says."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from engine.project.yamlio import MAX_NODES, load_text


def _nested_merges(levels: int) -> str:
    text = "{k0: 0}"
    for i in range(1, levels + 1):
        text = f"{{<<: [&x{i} {text}, *x{i}], k{i}: {i}}}"
    return "description: " + text


def test_nested_merges_are_flattened_once() -> None:
    # hung before the fix (2**24 merged pairs from a file of about 600 bytes)
    doc = load_text(_nested_merges(24), file="p.yaml")
    assert doc.data["description"] == {f"k{i}": i for i in range(25)}


def test_merged_pairs_count_against_the_limit() -> None:
    keys = ", ".join(f"k{i}: {i}" for i in range(1000))
    refs = ", ".join("*a" for _ in range(2))
    text = f"a: &a {{{keys}}}\n" + "".join(
        f"m{j}: {{<<: [{refs}]}}\n" for j in range(MAX_NODES // 1000 + 1))
    with pytest.raises(InputError) as exc:
        load_text(text, file="p.yaml")
    assert exc.value.problems[0].message == \
        f"document expands to more than {MAX_NODES:,} values"


def test_a_mapping_merging_itself_is_refused_at_its_line() -> None:
    # RecursionError (exit 4) before the fix
    with pytest.raises(InputError) as exc:
        load_text("id: x\ndescription: &a {<<: *a}\n", file="policies/x.yaml")
    problem = exc.value.problems[0]
    assert (problem.message, problem.file, problem.line, problem.column) == (
        "the merge key (<<) merges a mapping into itself", "policies/x.yaml", 2, 18)
    assert problem.hint == ("a mapping cannot merge itself or one that merges it (<<: *name "
                            "inside &name); write the values out")


def test_merged_keys_follow_the_merge_spec() -> None:
    text = "a: &b {x: 1, y: 2}\no: &o {x: 3, z: 4}\nm: {<<: [*b, *o], y: 5}\n"
    # refused as a duplicate key 'x' before the fix: the earlier source wins, explicit keys
    # override merged ones
    assert load_text(text).data["m"] == {"x": 1, "y": 5, "z": 4}


def test_explicit_duplicate_keys_are_still_refused() -> None:
    with pytest.raises(InputError) as exc:
        load_text("a: &b {x: 1}\nm: {<<: *b, y: 1, y: 2}\n", file="p.yaml")
    problem = exc.value.problems[0]
    assert (problem.message, problem.line) == ("duplicate key 'y' (first defined on line 2)", 2)
