"""`cvm init [FOLDER] [--from FILE]`: a project that runs, the mapping guessed from the file,
what could not be guessed named, and nothing ever overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from engine.cli import app
from engine.workflow.scaffold import STARTER
from tests.conftest import ROOT


def _init(folder: Path, source: Path | None = None) -> tuple[int, str, str]:
    args = ["init", str(folder)] + (["--from", str(source)] if source else [])
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def _runs(project: Path, tmp_path: Path) -> None:
    for args in (["validate", "--strict"], ["test"], ["run", "-q", "--out", str(tmp_path / "o")]):
        result = CliRunner().invoke(app, [*args, "-p", str(project)])
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "o" / "actions.csv").is_file()


def test_retail_data_gives_the_right_mapping_and_a_project_that_runs(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    code, out, err = _init(project, ROOT / "examples" / "retail" / "transactions.csv")
    assert (code, err) == (0, "")
    data = yaml.safe_load((project / "cvm.yaml").read_text())["data"]
    assert data["columns"] == {"customer_id": "CustomerID", "date": "OrderDate",
                               "amount": "NetAmount", "cost": "Cost", "quantity": "Qty",
                               "order_id": "OrderID", "channel": "SalesChannel",
                               "category": "Category"}
    assert (data["delimiter"], data["encoding"]) == (",", "utf-8")
    assert "date_format" not in data  # ISO dates need none
    assert "customer_id  <- 'CustomerID' (high: the name, and the values are text)" in out
    _runs(project, tmp_path)


def test_cdnow_raw_file(tmp_path: Path) -> None:
    project = tmp_path / "cd"
    code, _, err = _init(project, ROOT / "examples" / "cdnow" / "CDNOW_master.txt")
    assert (code, err) == (0, "")
    data = yaml.safe_load((project / "cvm.yaml").read_text())["data"]
    assert data["columns"] == {"customer_id": "customer_id", "date": "date",
                               "amount": "dollar_value", "quantity": "number_of_cds"}
    assert (data["delimiter"], data["date_format"]) == ("whitespace", "%Y%m%d")
    _runs(project, tmp_path)


def test_unusual_headers_say_what_could_not_be_guessed(tmp_path: Path) -> None:
    source = tmp_path / "export.csv"
    source.write_text("Kd;Tag;Summe;Notiz\nK1;03.01.2024;12,50;a\nK2;04.01.2024;8,00;b\n"
                      "K1;05.02.2024;3.10;c\n")  # decimal commas and a point: no guess
    code, out, err = _init(tmp_path / "p", source)
    assert code == 1
    assert err == (
        f"error: {tmp_path / 'p' / 'cvm.yaml'}:16: data.columns.amount: not guessed: column "
        "'Summe' holds numbers with a decimal comma ('12,50') and a decimal point ('3.10'), "
        "which cvm init cannot read as they are: export them with one decimal mark "
        "(data.decimal: ',' reads commas), no currency symbol or thousands separator\n"
        "  hint: write the name of the column holding amount in cvm.yaml, then run "
        "`cvm validate`\n")
    assert "customer_id  <- 'Kd' (low: its values repeat like customer ids" in out
    text = (tmp_path / "p" / "cvm.yaml").read_text()
    assert '    date: "Tag"  # guess (medium): its values are dates' in text
    assert '  date_format: "%d.%m.%Y"' in text
    assert "    amount: null  # NOT GUESSED: column 'Summe'" in text
    assert "  decimal:" not in text
    result = CliRunner().invoke(app, ["validate", "-p", str(tmp_path / "p")])
    assert result.exit_code == 1  # validate stops it before a run


def test_windows_1252_file(tmp_path: Path) -> None:
    source = tmp_path / "tx.csv"
    rows = [f"Müller-{i % 7},2024-0{1 + i % 9}-1{i % 10},{10 + i}.5" for i in range(60)]
    source.write_bytes(("Kunde,Datum,Umsatz\n" + "\n".join(rows) + "\n").encode("cp1252"))
    code, _, err = _init(tmp_path / "p", source)
    assert (code, err) == (0, "")
    data = (tmp_path / "p" / "cvm.yaml").read_text()
    assert "  encoding: cp1252  # guess: not UTF-8" in data
    assert yaml.safe_load(data)["data"]["columns"] == {
        "customer_id": "Kunde", "date": "Datum", "amount": "Umsatz"}
    result = CliRunner().invoke(app, ["score", "-p", str(tmp_path / "p"), "--out",
                                      str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "Scored 7 customers" in result.stdout


def test_never_overwrites(tmp_path: Path) -> None:
    project = tmp_path / "p"
    (project / "policies").mkdir(parents=True)
    (project / "policies" / "win_back.yaml").write_text("mine")
    (project / "cvm.yaml").write_text("mine too")
    code, out, err = _init(project)
    assert code == 3 and out == ""
    assert err == (f"error: {project}: refused: 2 file(s) already exist: cvm.yaml, "
                   "policies/win_back.yaml\n  hint: cvm init never overwrites a file: choose "
                   "a new or empty folder, or move those files away\n")
    assert (project / "cvm.yaml").read_text() == "mine too"
    assert sorted(p.name for p in project.rglob("*")) == ["cvm.yaml", "policies", "win_back.yaml"]


def test_without_a_file(tmp_path: Path) -> None:
    code, out, _ = _init(tmp_path / "p")
    assert code == 0
    assert out.splitlines()[-1] == ("next: put your transactions at data/transactions.csv (or "
                                    "change data.transactions), map its columns in cvm.yaml, "
                                    "then cvm validate")
    config = yaml.safe_load((tmp_path / "p" / "cvm.yaml").read_text())
    assert config["data"]["transactions"] == "data/transactions.csv"


def test_missing_source_is_an_input_problem(tmp_path: Path) -> None:
    code, _, err = _init(tmp_path / "p", tmp_path / "nope.csv")
    # a first-day trial: each error's hint on the next line, as README says, this one none
    assert code == 1 and err == (f"error: {tmp_path / 'nope.csv'}: --from: file not found\n"
                                 "  hint: give the path of your transactions export (CSV or "
                                 "Parquet), relative to the current folder or absolute\n")
    assert not (tmp_path / "p").exists()


@pytest.mark.parametrize("sub", ["rules", "policies", "templates", "triggers"])
def test_starter_files_are_the_repositorys(sub: str) -> None:
    """The starter set is the repository's, but for channels without consents."""
    ours = {p.name: p.read_bytes() for p in (STARTER / sub).iterdir()}
    theirs = {p.name: p.read_bytes() for p in (ROOT / sub).iterdir()}
    assert ours.keys() == theirs.keys()
    for name in ours:
        if name != "channels.yaml":
            assert ours[name] == theirs[name], f"{sub}/{name} differs from the repository's"

    if sub == "policies":
        kept = [line for line in theirs["channels.yaml"].decode().splitlines()
                if "consent: consent_" not in line and not line.startswith("#")]
        assert [line for line in ours["channels.yaml"].decode().splitlines()
                if not line.startswith("#")] == kept


def test_readme_example(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("### Starting a project: `cvm init`")[1].split("```\n", 2)[1]
    lines = block.splitlines()
    command = lines[0].removeprefix("$ cvm ").split()
    assert command == ["init", "shop", "--from", "examples/retail/transactions.csv"]
    code, out, _ = _init(tmp_path / "shop", ROOT / command[3])
    assert code == 0
    actual = out.replace(str(tmp_path / "shop"), "shop").splitlines()
    for line in lines[1:]:
        assert line == "  ..." or line in actual, line


def test_a_new_project_s_files_name_schemas_it_holds(tmp_path: Path) -> None:
    """The starter files' editor line named ../engine/schemas/, which a project made by cvm
    init has not: completion never worked there (a new user's find). The project gets its own
    copy, and every file names it."""
    code, _, err = _init(tmp_path / "p", None)
    assert code == 0, err
    named = 0
    for path in (tmp_path / "p").rglob("*.yaml"):
        for line in path.read_text().splitlines()[:1]:
            if "$schema=" in line:
                target = (path.parent / line.split("$schema=")[1]).resolve()
                assert target.is_file(), f"{path} names {target}, which is not there"
                assert target.read_bytes() == (ROOT / "engine/schemas" / target.name).read_bytes()
                named += 1
    assert named > 10


def test_a_column_named_like_it_whose_values_were_not_read_is_offered(tmp_path: Path) -> None:
    """A first-day trial's US Excel times ('1/2/2023 6:57 PM'): 'not guessed', and the hint sent
    the user to look for another column, where this one needs its date_format."""
    source = tmp_path / "export.csv"
    source.write_text("Customer,OrderDate,Amount\nC1,1/2/2023 6:57 PM,12.50\n"
                      "C2,1/3/2023 7:00 AM,3.00\n")
    code, _, err = _init(tmp_path / "p", source)
    assert code == 1
    assert err.endswith(
        "  hint: if 'OrderDate' is the column, write date: OrderDate and data.date_format as "
        "its dates are written (strftime codes: \"%m/%d/%Y %I:%M %p\" reads 1/2/2023 6:57 PM) "
        "in cvm.yaml, then run `cvm validate`, which says what each value needs; else write "
        "the name of the column holding date\n")
