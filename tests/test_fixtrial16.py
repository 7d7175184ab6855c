"""What the new-user trial of issue 16 found: a malformed --scheduler, the error prefix of every
line of a report, synth.py's command line, the database source's positions per key, unset
variables of data.storage_options, a query that is not a SELECT, --quiet and Dask's logs."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from engine.distributed.cluster import check_engine, check_scheduler, quiet_logs
from engine.errors import InputError, Problem, UsageError
from engine.terminal import problem_lines

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(("address", "found"), [
    ("garbage", "'garbage'"), ("tcp://127.0.0.1:notaport", "'tcp://127.0.0.1:notaport'"),
    ("tcp://:8786", "'tcp://:8786'"), ("tcp://h:0", "'tcp://h:0'"), ("http://h:8786", None)])
def test_a_malformed_scheduler_address_is_a_usage_error(address: str, found: str | None
                                                         ) -> None:
    with pytest.raises(UsageError) as caught:
        check_engine("dask", scheduler=address)
    shown = found or repr(address)
    assert caught.value.format() == (
        f"--scheduler: found {shown}, expected tcp://HOST:PORT (the address the scheduler "
        "prints)\n  hint: leave --scheduler out for a local cluster of two workers")


def test_cvm_run_refuses_a_malformed_scheduler_before_any_work(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import app

    result = CliRunner().invoke(app, ["run", "--engine", "dask", "--scheduler",
                                      "tcp://127.0.0.1:notaport", "-o", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --scheduler: found 'tcp://127.0.0.1:notaport', ")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("spaces", ["", " "])
def test_an_unreachable_scheduler_is_an_input_problem_said_once(spaces: str,
                                                                tmp_path: Path) -> None:
    """A well-formed address with no scheduler behind it names something missing: exit 1, as
    an unreachable history database, after Dask's own connect timeout (set here to 1 s)."""
    import socket

    from typer.testing import CliRunner

    from engine.cli import app

    dask = pytest.importorskip("dask")
    pytest.importorskip("distributed")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        # a data engineer's trial: ' tcp://...' (spaces pasted with it) passed the check,
        # then Dask's client refused the scheme ' tcp' (an internal error, exit 4)
        result = CliRunner().invoke(app, ["run", "--project", str(ROOT), "--engine", "dask",
                                          "--scheduler", f"{spaces}{address}{spaces}",
                                          "-o", str(tmp_path / "o"),
                                          "--no-history"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"error: --scheduler: found {address!r}, no Dask scheduler answered there within 1s\n"
        "  hint: start the scheduler or give the address it prints; the wait is Dask's "
        "distributed.comm.timeouts.connect (DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT); "
        "or leave --scheduler out for a local cluster\n")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:8786", "10.0.0.5:8786",
                                     "tls://sched.example.com:8786", "tcp://[::1]:8786"])
def test_a_good_scheduler_address_passes(address: str) -> None:
    assert check_scheduler(address) == address
    assert check_scheduler(f" {address}\t") == address  # as Dask's client takes it


def test_no_partitions_is_a_usage_error_with_a_hint() -> None:
    with pytest.raises(UsageError) as refused:
        check_engine("dask", partitions=0)
    assert refused.value.problems[0].format() == (
        "--partitions: found 0, expected a number of partitions >= 1\n"
        "  hint: leave --partitions out to have it made from the size of the data")


def test_every_line_of_a_report_has_its_prefix() -> None:
    problems = [Problem("one", file="a", hint="h"), Problem("two", file="b"),
                Problem("three", severity="warning")]
    assert problem_lines(problems) == [
        "error: a: one\n  hint: h", "error: b: two", "warning: three"]


def test_cvm_run_prefixes_each_problem_as_validate_does(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from engine.cli import handled

    @handled
    def failing(quiet: bool = False) -> int:
        raise InputError([Problem("first", file="f"), Problem("second", file="postgresql://x")])

    import typer

    app = typer.Typer()
    app.command()(failing)
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 1
    assert result.output == "error: f: first\nerror: postgresql://x: second\n"


def test_synth_has_a_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import synth  # examples/retail/synth.py (pytest's pythonpath)

    script = str(ROOT / "examples/retail/synth.py")
    shown = subprocess.run([sys.executable, script, "--help"], capture_output=True, text=True,
                           check=False)  # run as a script: it printed nothing before
    assert shown.returncode == 0
    assert shown.stdout.startswith("usage: synth.py [-h]")
    assert "--ids {short,uuid}" in shown.stdout
    with pytest.raises(SystemExit) as wrong:
        synth.main(["10", str(tmp_path), "--bogus"])
    assert wrong.value.code == 2
    assert "unrecognized arguments: --bogus" in capsys.readouterr().err
    assert synth.main(["20", str(tmp_path / "out"), "--format", "parquet"]) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "customers.parquet", "transactions.parquet"]


def test_quiet_silences_distributed_and_keeps_its_warnings_otherwise() -> None:
    log = logging.getLogger("distributed.nanny")
    client = logging.getLogger("distributed.client")
    before = (log.level, client.level)
    with quiet_logs(True) as level:  # the workers' level too (LocalCluster's silence_logs)
        assert level == logging.ERROR
        assert not log.isEnabledFor(logging.WARNING)
        assert not client.isEnabledFor(logging.WARNING)
    assert (log.level, client.level) == before
    with quiet_logs(False) as level:
        assert level == logging.WARNING
        assert log.isEnabledFor(logging.WARNING)
