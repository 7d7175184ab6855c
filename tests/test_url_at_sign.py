"""A database URL whose password (or user name) holds an '@' not written %40: SQLAlchemy and
libpq end the password at its first '@' and take the rest for the host, which the masked URL
and the driver's own errors ("failed to resolve host 'ret@127.0.0.1'") then showed (a security
trial). Such a URL is refused before connecting, masked up to its last '@'."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.history.settings import HistorySettings
from tests.history_runs import cvm, retail_copy

URL = "postgresql://u:S3c@ret@127.0.0.1:9912/db"
HISTORY = ("found a user name or password holding an '@' in "
           "'postgresql://u:***@127.0.0.1:9912/db', expected each '@' inside them written as "
           "%40\n  hint: only the '@' before the host is written as is: "
           "postgresql://user:pa%40ss@host:5432/database (else the password ends at its first "
           "'@' and the rest is taken for the host)")


def _said(result_text: str) -> None:
    assert "S3c" not in result_text and "ret" not in result_text.replace("return", "")


def test_a_history_url_with_an_at_sign_in_its_password_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", URL)
    for args in (["run", "-q", "--out", str(tmp_path / "out")], ["validate"], ["history"]):
        result = cvm(*args, "--project", str(project))
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[:2] == f"error: CVM_HISTORY_URL: {HISTORY}" \
            .splitlines(), result.stderr
        _said(result.output)
    assert not (tmp_path / "out").exists()


def test_a_history_in_cvm_yaml_with_an_at_sign_in_its_password_is_refused(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CVM_HISTORY_URL", raising=False)
    project = retail_copy(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text()
    config.write_text(text + f"history: {URL}\n")
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 1, result.output
    line = len(text.splitlines()) + 1
    assert result.stderr.splitlines()[:2] == [
        f"error: cvm.yaml:{line}:10: history: {HISTORY.splitlines()[0]}",
        HISTORY.splitlines()[1]], result.stderr
    _said(result.output)


@pytest.mark.parametrize(("url", "said"), [
    # a user name holding an '@' (an e-mail address): libpq ends it at the first '@'
    ("postgresql://ana@shop.test@127.0.0.1:9912/db",
     "error: cvm.yaml:{line}:10: data.transactions.url: found a user name or password holding "
     "an '@' in 'postgresql://***@127.0.0.1:9912/db', expected each '@' inside them written "
     "as %40\n  hint: only the '@' before the host is written as is: "
     "postgresql://ana%40example.com@host:5432/database (else the user name ends at its first "
     "'@' and the rest is taken for the host)\n"),
    # a password: refused as any password in cvm.yaml, no part of it said
    (URL, "error: cvm.yaml:{line}:10: data.transactions.url: found a password in the URL, "
     "expected none: cvm.yaml is no place for it (and the URL is written into the run "
     "manifest)\n  hint: write postgresql://user@host:5432/database, without the password "
     "(give it in PGPASSWORD or ~/.pgpass, or name an environment variable in "
     "password_env)\n"),
], ids=["user", "password"])
def test_a_data_source_url_with_an_at_sign_in_its_user_info_is_refused(
        tmp_path: Path, url: str, said: str) -> None:
    project = retail_copy(tmp_path)
    config = project / "cvm.yaml"
    text = config.read_text()
    config.write_text(text.replace("  transactions: examples/retail/transactions.csv\n",
                                   f"  transactions:\n    url: {url}\n    table: sales\n"))
    for command in (["validate"], ["run", "-q", "--out", str(tmp_path / "out")]):
        result = cvm(*command, "--project", str(project))
        assert result.exit_code == 1, result.output
        assert result.stderr.splitlines()[:2] == said.format(line=6).splitlines(), \
            result.stderr
        _said(result.output)
        assert "shop.test" not in result.output


@pytest.mark.parametrize(("url", "masked"), [
    (URL, "postgresql://u:***@127.0.0.1:9912/db"),
    ("postgresql://u:S3c@r/et@127.0.0.1/db", "postgresql://u:***@127.0.0.1/db"),
    ("postgresql://S3c@ret@127.0.0.1/db", "postgresql://***@127.0.0.1/db"),
    ("postgresql://u@127.0.0.1/db?password=S3c@ret", "postgresql://u@127.0.0.1/db?password=***"),
    ("postgresql://u@127.0.0.1/db", "postgresql://u@127.0.0.1/db"),
    # a review: an '@' of the query was taken for the user's, hiding the host and database
    ("postgresql://u@h/db?application_name=a@b", "postgresql://u@h/db?application_name=a@b"),
])
def test_a_url_is_masked_up_to_its_last_at_sign(url: str, masked: str) -> None:
    from engine.project.database_source import masked_url

    assert masked_url(url) == masked


def test_a_parsed_url_whose_host_took_the_password_s_end_is_masked() -> None:
    """The history's masking (manifest, messages) of a URL not made by its checked settings:
    SQLAlchemy's own hid 'S3c' and showed 'ret@127.0.0.1'."""
    from sqlalchemy.engine import make_url

    settings = HistorySettings(make_url(URL).set(drivername="postgresql+psycopg"), "test", None)
    assert settings.masked == "postgresql://u:***@127.0.0.1:9912/db"


@pytest.mark.parametrize("url", [
    "postgresql://u@127.0.0.1:9912/db?password=S3c@ret",
    "postgresql://u@127.0.0.1:9912/db?sslpassword=S3c@ret&sslmode=disable",
])
def test_an_at_sign_in_the_parameters_is_refused_and_no_part_of_a_password_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """A re-trial: the parse takes the URL's last '@' for the user's, so a password given as a
    parameter holding one was cut there, its end shown as the host ('u%40127.0.0.1:***@ret')."""
    project = retail_copy(tmp_path)
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    masked = url.replace("S3c@ret", "***")
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[:2] == [
        f"error: CVM_HISTORY_URL: found an '@' in the parameters (after ?) of {masked!r}, "
        "expected it written as %40",
        "  hint: only the '@' before the host is written as is: postgresql://user:pa%40ss@host:"
        "5432/database (else the password ends at its first '@' and the rest is taken for the "
        "host)"], result.stderr
    _said(result.output)


def test_a_data_source_url_with_an_at_sign_in_a_parameter_is_no_password(
        tmp_path: Path) -> None:
    """A re-trial: application_name=me@laptop was refused as 'a password in the URL'."""
    project = retail_copy(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        "  transactions: examples/retail/transactions.csv\n",
        "  transactions:\n    url: postgresql://u@127.0.0.1:9912/db?application_name=me@laptop"
        "\n    table: sales\n"))
    result = cvm("validate", "--project", str(project))
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[0] == (
        "error: cvm.yaml:6:10: data.transactions.url: found an '@' in the parameters (after ?) "
        "of 'postgresql://u@127.0.0.1:9912/db?application_name=me@laptop', expected it written "
        "as %40"), result.stderr


@pytest.mark.parametrize(("url", "masked"), [
    # CI: a password holding '?' is no query ('=' is not before its '@')
    ("postgresql://cvm:s3cr?t@db.example.com:5432/m", "postgresql://cvm:***@db.example.com:5432/m"),
    ("postgresql://cvm:ab/c?d@h/m?sslmode=require", "postgresql://cvm:***@h/m?sslmode=require"),
    ("postgresql://u@h/db?password=a@b", "postgresql://u@h/db?password=***"),
])
def test_a_question_mark_of_a_password_is_no_query(url: str, masked: str) -> None:
    from engine.project.database_source import at_problem, masked_url

    assert masked_url(url) == masked
    assert (at_problem(url) is None) == ("password=" not in url)
