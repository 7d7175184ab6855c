"""A new user's trial: a link in templates/ to a file outside it put the file (/etc/passwd,
cvm.yaml) into every brief, where naming it was refused; and cvm validate said "valid" for
templates that cvm run refuses whatever the data (Python internals, a template including
itself), because it kept only misspelt names from rendering its sample."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InputError
from tests.conftest import copy_example_project

runner = CliRunner()


def _with_line(project: Path, line: str) -> None:
    brief = project / "templates" / "brief.md.j2"
    brief.write_text(brief.read_text() + line + "\n")


def _refused_by_validate_and_run(project: Path, said: str, out: Path) -> None:
    """validate and run both stop with ``said`` (exit 1); run writes nothing."""
    for command in (["validate"], ["run", "-o", str(out), "--no-history"]):
        result = runner.invoke(app, [*command, "-p", str(project)])
        assert (result.exit_code, said in result.output) == (1, True), result.output
    assert not out.exists()


def test_a_link_to_a_file_outside_templates_is_refused(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    secret = tmp_path / "secret.txt"
    secret.write_text("password=hunter2\n")
    (project / "templates" / "pw.j2").symlink_to(secret)
    lines = len((project / "templates" / "brief.md.j2").read_text().splitlines())
    _with_line(project, "{% include 'pw.j2' %}")
    said = (f"error: templates/brief.md.j2:{lines + 1}: templates/pw.j2 is a link to {secret}, "
            "outside the project's templates/ folder\n  hint: a template reads only files "
            "inside templates/: copy the file there instead of linking to it\n")
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 1
    assert said in result.output, result.output
    out = tmp_path / "out"
    result = runner.invoke(app, ["run", "-p", str(project), "-o", str(out), "--no-history"])
    assert result.exit_code == 1
    assert said in result.output, result.output
    assert not out.exists()
    inside = project / "templates" / "again.j2"  # a link inside templates/ is read
    inside.symlink_to(project / "templates" / "brief.md.j2")
    (project / "templates" / "pw.j2").unlink()
    brief = project / "templates" / "brief.md.j2"
    brief.write_text(brief.read_text().replace("{% include 'pw.j2' %}\n", ""))
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 0, result.output


def test_validate_refuses_what_run_refuses_whatever_the_data(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    lines = len((project / "templates" / "brief.md.j2").read_text().splitlines())
    _with_line(project, "{{ run.__class__ }}")
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 1
    assert (f"error: templates/brief.md.j2:{lines + 1}: the template tries to reach Python "
            "internals, which the sandbox forbids: access to attribute '__class__' of 'dict' "
            "object is unsafe.\n") in result.output, result.output


def test_a_limit_met_on_the_sample_is_a_warning(tmp_path: Path) -> None:
    """A limit met on the samples for one campaign only is a warning (a run without that
    campaign's customers renders every brief); met by every campaign of every sample, an
    error (templates/test_template_work.py)."""
    project = copy_example_project(tmp_path)
    lines = len((project / "templates" / "brief.md.j2").read_text().splitlines())
    _with_line(project, "{% if campaign.id == 'win_back' %}{{ 'x' * 10**9 }}{% endif %}")
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 0, result.output
    assert (f"warning: templates/brief.md.j2:{lines + 1}: the template builds a value longer "
            "than 1,000,000 characters or items\n") in result.output, result.output
    assert "found rendering a sample action list: cvm run stops here on data like it" \
        in result.output
    result = runner.invoke(app, ["validate", "--strict", "-p", str(project)])
    assert result.exit_code == 1


def test_a_range_too_big_is_said_as_a_limit(tmp_path: Path) -> None:
    """A new user's trial: `range(10**9)` said Python's own words ("could not render:
    OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).")
    and no hint, where every other limit is said plainly with one."""
    project = copy_example_project(tmp_path)
    lines = len((project / "templates" / "brief.md.j2").read_text().splitlines())
    _with_line(project, "{% for i in range(10**9) %}x{% endfor %}")
    result = runner.invoke(app, ["run", "-p", str(project), "-o", str(tmp_path / "out"),
                                 "--no-history"])
    assert result.exit_code == 1
    assert (f"error: templates/brief.md.j2:{lines + 1}: the template asks for a range of more "
            "than 100,000 numbers\n  hint: templates are limited so that no file can hang a "
            "run or exhaust memory") in result.output, result.output


def test_an_included_template_not_in_utf8_is_an_error_at_its_own_file(tmp_path: Path) -> None:
    """validate said a warning ("cvm run stops here on data like it") for an included
    template that is not UTF-8, which run refuses whatever the data, and named the including
    file (its errors and warnings were told apart by their first words, not by what failed)."""
    project = copy_example_project(tmp_path)
    (project / "templates" / "latin.txt").write_bytes(b"Caf\xe9\n")
    _with_line(project, "{% include 'latin.txt' %}")
    said = ("error: templates/latin.txt: byte 0xe9 at offset 3 is not valid UTF-8\n"
            "  hint: save the template as UTF-8\n")
    _refused_by_validate_and_run(project, said, tmp_path / "out")


@pytest.mark.parametrize("target", ["shared", "."])
def test_a_templates_folder_that_is_a_link_is_not_read(tmp_path: Path, target: str) -> None:
    """The review: `ln -s . templates` made the project folder the templates' folder, and
    `{% include 'cvm.yaml' %}` put cvm.yaml into every brief (a link to a folder outside the
    project let any of its files through the same way)."""
    project = copy_example_project(tmp_path)
    held = project / target
    held.mkdir(exist_ok=True)
    for brief in (project / "templates").iterdir():
        shutil.move(brief, held / brief.name)
    (project / "templates").rmdir()
    (project / "templates").symlink_to(target)
    said = (f"error: templates/brief.md.j2: templates/ is a link to {held.resolve()}: a "
            "project's templates are read from its own templates/ folder only\n  hint: move "
            "the templates into templates/ instead of linking to their folder\n")
    _refused_by_validate_and_run(project, said, tmp_path / "out")


@pytest.mark.parametrize("name", ["policies/leak.yaml", "rules/value_tiers.yaml",
                                  "policies/channels.yaml", "policy_tests/leak.yaml"])
def test_a_project_file_that_links_outside_the_project_is_not_read(tmp_path: Path,
                                                                   name: str) -> None:
    """A policy (or rule, channel or test) file linked to a file elsewhere was read, and its
    lines shown in the errors: `policies/leak.yaml -> ~/.aws/credentials` put the keys into
    cvm validate's output (a CI log) as "the lines around it"."""
    project = copy_example_project(tmp_path)
    secret = tmp_path / "credentials"
    secret.write_text("[default]\naws_secret_access_key = hunter2secret\n")
    (project / "policy_tests").mkdir(exist_ok=True)
    link = project / name
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 1
    assert "hunter2secret" not in result.output
    assert (f"error: {name}: is a link to {secret}, outside the project folder: not read\n"
            "  hint: copy the file into the project instead of linking to it\n"
            ) in result.output, result.output


def test_a_template_including_itself_is_said_at_its_include(tmp_path: Path) -> None:
    """The review: a brief including itself was said at line 16, where the recursion ran out,
    not at the include line that starts it."""
    project = copy_example_project(tmp_path)
    lines = len((project / "templates" / "brief.md.j2").read_text().splitlines())
    _with_line(project, "{% include 'brief.md.j2' %}")
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 1
    assert (f"error: templates/brief.md.j2:{lines + 1}: the template calls or includes itself "
            "without end\n") in result.output, result.output


def test_a_macro_may_nest_fifty_deep_and_not_much_more(tmp_path: Path) -> None:
    """Templates may stack up 400 Python frames (template_limits.TEMPLATE_FRAMES), about 60
    levels of macro calls (README "Campaign briefs"): a recursion without end stops there."""
    from engine.project.templates import read_templates
    from engine.render.sandbox import render_template, sandbox

    folder = tmp_path / "templates"
    folder.mkdir()
    results = {}
    for depth in (50, 150):
        (folder / "t.md.j2").write_text(
            "{% macro down(k) %}{% if k > 0 %}{{ down(k - 1) }}{% else %}bottom{% endif %}"
            "{% endmacro %}{{ down(" + str(depth) + ") }}")
        try:
            results[depth] = render_template(sandbox(read_templates(tmp_path), trim=True),
                                             "t.md.j2", {}, str).strip()
        except InputError as exc:
            results[depth] = exc.problems[0].message
    assert results == {50: "bottom",
                       150: "the template calls or includes itself without end"}


def test_renders_ending_out_of_order_give_back_python_s_own_limit() -> None:
    """A review of the lowering: two renders in two threads, the first ending before the
    second, left the process at the lowered limit (the second restored the first's)."""
    import sys

    from engine.render.template_limits import shallow_recursion

    before = sys.getrecursionlimit()
    first, second = shallow_recursion(), shallow_recursion()
    first.__enter__()
    second.__enter__()
    assert sys.getrecursionlimit() < before
    first.__exit__(None, None, None)
    second.__exit__(None, None, None)
    assert sys.getrecursionlimit() == before


def test_templates_including_each_other_are_named_and_each_brief_template_is_checked(
        tmp_path: Path) -> None:
    """A new user's trial: brief.md.j2 misspelt a name and brief.html.j2 included c.j2, which
    included a.j2, which included b.j2, which included a.j2: validate said the first alone,
    and once it was fixed, blamed brief.html.j2:1 for 'including itself'."""
    project = copy_example_project(tmp_path)
    folder = project / "templates"
    (folder / "brief.md.j2").write_text("{{ nosuch.x }}\n")
    html = folder / "brief.html.j2"
    html.write_text('{% include "c.j2" %}\n' + html.read_text())
    (folder / "c.j2").write_text('{% include "a.j2" %}\n')
    (folder / "a.j2").write_text('A\n{% include "b.j2" %}\n')
    (folder / "b.j2").write_text('{% include "a.j2" %}\n')
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 1
    said = [x for x in result.stderr.splitlines() if x.startswith("error")]
    assert said == [
        "error: templates/brief.md.j2:1: 'nosuch' is undefined",
        "error: templates/a.j2:2: the templates include or call each other without end: "
        "a.j2:2 -> b.j2:1 -> a.j2"], result.stderr
