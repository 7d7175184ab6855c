"""Consents written in the CRM's own language (a German export's ja/nein, a French one's
oui/non) are read as yes and no: they were refused (`found 'ja', expected yes or no`), and a
new user rewrote the export. An accent written apart from its letter (Unicode's
decomposed form: sí as s, i, U+0301) is the same word."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from engine.cli import app
from tests.conftest import ROOT, copy_example_project

WORDS = itertools.cycle([("ja", "Nein"), ("OUI", "non"), ("sí", "no"), ("Sim", "não"),
                         ("ja", "nee"), ("tak", "nie"), ("Ja", "nej"), ("si", "NO"),
                         # the accents decomposed (a letter, then its accent: a Mac's export)
                         ("si\u0301", "na\u0303o")])


def _consents(project: Path, out: Path) -> pd.DataFrame:
    result = CliRunner().invoke(app, ["score", "-p", str(project), "--out", str(out),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "customers.csv", dtype=str, keep_default_na=False)
    return table[["customer_id", *sorted(c for c in table if c.startswith("consent_"))]]


def test_consents_in_other_languages_read_as_yes_and_no(tmp_path: Path) -> None:
    project = copy_example_project(tmp_path)
    lines = (ROOT / "examples" / "retail" / "customers.csv").read_text().splitlines()
    written = [lines[0]]
    for line in lines[1:]:
        yes, no = next(WORDS)
        written.append(",".join(yes if v == "yes" else no if v == "no" else v
                                for v in line.split(",")))
    assert "ja" in written[1] + written[2] + written[3]
    (project / "customers.csv").write_text("\n".join(written) + "\n")
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(f"{ROOT}/examples/retail/customers.csv",
                                                 "customers.csv"))
    got = _consents(project, tmp_path / "words")
    (tmp_path / "english").mkdir()
    want = _consents(copy_example_project(tmp_path / "english"), tmp_path / "english-out")
    assert len(got.columns) > 2 and got.equals(want)
