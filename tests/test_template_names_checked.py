"""A misspelt name in a brief template (`budgt.used`, `budget.usd`) is found by `cvm validate`,
at the template's line, as `cvm run` would find it: validate renders each brief template for
every campaign of the policies, on a sample action list with a customer in each status, so
that `validate` passing means `run` renders (the README's rule). A sound template passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ci_jobs import main_job_only
from tests.history_runs import cvm, retail_copy

pytestmark = main_job_only("Jinja2's sandbox and the engine's names decide it, the same "
                           "whatever the Python or pandas")


@pytest.mark.parametrize(("old", "new", "said", "hint"), [
    ("{{ budget.used | money(run.currency) }}", "{{ budgt.used | money(run.currency) }}",
     "'budgt' is undefined", "did you mean 'budget'? (see"),
    # the closest of budget's own fields, not of any field of the context
    ("{{ budget.used | money(run.currency) }}", "{{ budget.usd | money(run.currency) }}",
     "budget.usd: budget has no field 'usd'", "did you mean 'used'? (see"),
    # a field of a text item (the trial's case: a KPI is a text): none to suggest
    ("- {{ k }}\n{% endfor %}", "- {{ k.nme }}\n{% endfor %}",
     "k.nme: k is a text, with no field 'nme'", "see the README"),
    # through a filter that does arithmetic: round() raised TypeError (validate only warned,
    # run failed, budgett named nowhere), float and int rendered 0 (a marketer's trial)
    *[("{{ budget.used | money(run.currency) }}", "{{ budget.usd | " + f + " }}",
       "budget.usd: budget has no field 'usd'", "did you mean 'used'? (see")
      for f in ("round(2)", "abs", "pprint", "tojson", "float")],
])
def test_validate_finds_a_misspelt_name_as_run_does(tmp_path: Path, old: str, new: str,
                                                    said: str, hint: str) -> None:
    project = retail_copy(tmp_path)
    template = project / "templates" / "brief.md.j2"
    text = template.read_text()
    assert text.count(old) == 1
    template.write_text(text.replace(old, new))
    line = text[:text.index(old)].count("\n") + 1
    checked = cvm("validate", "--project", str(project))
    ran = cvm("run", "--project", str(project), "--out", str(tmp_path / "o"), "--no-history")
    assert (checked.exit_code, ran.exit_code) == (1, 1)
    first = checked.stderr.splitlines()[0]
    assert first.startswith(f"error: templates/brief.md.j2:{line}: ")
    assert said in first
    assert checked.stderr.splitlines()[1].startswith(f"  hint: {hint}")
    assert first in ran.stderr.splitlines()  # the same words as the run's
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("example", [None, "examples/subscription", "examples/cdnow"])
def test_the_bundled_templates_pass(example: str | None) -> None:
    root = Path(__file__).resolve().parents[1]
    assert cvm("validate", "--project", str(root / example if example else root)
               ).exit_code == 0


def _with_line(tmp_path: Path, line: str) -> Path:
    project = retail_copy(tmp_path)
    template = project / "templates" / "brief.md.j2"
    template.write_text(template.read_text() + line + "\n")
    return project


def test_what_depends_on_the_data_is_left_to_the_run(tmp_path: Path) -> None:
    """The sample has its own counts: an element it lacks is no finding of validate (the
    review's case: a template reading an example the sample does not have)."""
    project = _with_line(tmp_path, '{% if run.as_of == "2000-01-01" %}{{ examples[9].offer }}'
                                   "{% endif %}{{ tier_mix[0].name }} {{ examples[4].offer }}")
    assert cvm("validate", "--project", str(project)).exit_code == 0
    assert cvm("run", "--project", str(project), "--out", str(tmp_path / "o"),
               "--no-history", "-q").exit_code == 0


def test_only_validate_renders_the_sample(tmp_path: Path) -> None:
    """A misspelt name in a branch the sample takes and the data does not: validate says
    so, the run (which never renders the sample) works."""
    project = _with_line(tmp_path, '{% if run.as_of == "2000-01-01" %}{{ budgt }}{% endif %}')
    checked = cvm("validate", "--project", str(project))
    assert checked.exit_code == 1 and "'budgt' is undefined" in checked.stderr
    assert cvm("run", "--project", str(project), "--out", str(tmp_path / "o"),
               "--no-history", "-q").exit_code == 0


def test_the_hint_names_the_fields_of_the_object_that_lacks_the_name() -> None:
    """The review's case: two expressions on one line ask for the same field; only the one
    that lacks it is looked into (run has a currency, budget has not)."""
    from engine.render.names import undefined_hint

    context = {"run": {"currency": "EUR"}, "budget": {"used": 1.0, "available": 2.0}}
    line = "{{ run.currency }} / {{ budget.currency }} {{ budget.usd }}"
    assert undefined_hint("'dict object' has no attribute 'currency'", context, line) == \
        "see the README for the variables a template gets"
    assert undefined_hint("'dict object' has no attribute 'usd'", context, line) == \
        "did you mean 'used'? (see the README for the variables a template gets)"


def test_default_still_takes_what_is_not_there(tmp_path: Path) -> None:
    """`default` is the one filter made for a missing value: not refused with the others."""
    project = _with_line(tmp_path, "{{ budget.usd | default('n/a') }} {{ nothing | d(0) }}")
    assert cvm("validate", "--project", str(project)).exit_code == 0
