from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import typer

from tests.shared_runs import SharedCommands

if TYPE_CHECKING:
    from tests.test_ci_recipe import Reviewed

ROOT = Path(__file__).resolve().parents[1]


def _commands_built_once() -> None:
    """typer's CliRunner builds the Click command from the Typer app at every ``invoke``
    (reading every command's signature: 50 s of a CI job over the suite); the tests invoke
    the same app thousands of times, so each app's command is built once, as ``cvm`` builds
    it once per process."""
    import typer.testing

    build = typer.testing._get_command
    built: dict[int, tuple[object, object]] = {}

    def get_command(app: typer.Typer) -> object:
        if id(app) not in built:
            built[id(app)] = (app, build(app))  # the app kept: its id stays its own
        return built[id(app)][1]

    typer.testing._get_command = get_command  # type: ignore[assignment]


_commands_built_once()

BASE_CONFIG = """\
name: test
data:
  transactions: tx.csv
  columns:
    customer_id: cust
    date: day
    amount: amount
    cost: cost
as_of: 2024-07-01
currency: EUR
period_days: 30
horizon_periods: 4
discount_rate: 0.1
margin_rate: 0.3
"""

BASE_TX = """\
cust,day,amount,cost
a,2024-01-05,100.00,60.00
a,2024-03-10,50.00,30.00
a,2024-06-20,80.00,40.00
b,2024-02-01,200.00,150.00
c,2024-05-15,30.00,20.00
c,2024-06-02,40.00,25.00
"""


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A project folder with cvm.yaml, the shipped value tiers and a transactions file."""

    def make(config: str = BASE_CONFIG, tx: str | bytes | None = BASE_TX,
             files: dict[str, str | bytes] | None = None) -> Path:
        (tmp_path / "rules").mkdir(exist_ok=True)
        shutil.copy(ROOT / "rules" / "value_tiers.yaml", tmp_path / "rules" / "value_tiers.yaml")
        (tmp_path / "cvm.yaml").write_text(textwrap.dedent(config))
        for name, content in {**({"tx.csv": tx} if tx is not None else {}),
                              **(files or {})}.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        return tmp_path

    return make


def copy_example_project(tmp_path: Path) -> Path:
    """The bundled example as a separate project (rules, policies, templates and cvm.yaml
    copied; the data read from the repository), so a test can change its files."""
    project = tmp_path / "p"
    project.mkdir()
    for name in ("rules", "policies", "templates"):
        shutil.copytree(ROOT / name, project / name)
    text = (ROOT / "cvm.yaml").read_text().replace("examples/", f"{ROOT}/examples/")
    (project / "cvm.yaml").write_text(text)
    return project


@pytest.fixture(autouse=True, scope="module")
def _module_history_outside_the_checkout(
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same for module-scoped fixtures (a run of the bundled example shared by a module's
    tests): autouse fixtures come first within their scope, so this one precedes them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CVM_HISTORY_URL",
                     str(tmp_path_factory.mktemp("history") / "history.sqlite"))
        yield


@pytest.fixture(autouse=True)
def _history_outside_the_checkout(tmp_path_factory: pytest.TempPathFactory,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Every command records its history into a temporary file (CVM_HISTORY_URL), never into
    <project>/.cvm/ of the checkout's examples; each test starts from an empty history. Tests
    of the default location remove it."""
    monkeypatch.setenv("CVM_HISTORY_URL",
                       str(tmp_path_factory.mktemp("history") / "history.sqlite"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server: CVM_TEST_POSTGRES_URL, or a throwaway one started from
    the installed PostgreSQL. Skipped without one, except in CI (CI=1), where it fails."""
    from tests.pg_server import URL_VAR, Server, find_bindir

    if os.environ.get(URL_VAR):
        yield os.environ[URL_VAR]
        return
    bindir = find_bindir()
    reason = None
    server = None
    if bindir is None:
        reason = ("PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on "
                  f"the PATH): install it (apt-get install postgresql) or set {URL_VAR}")
    else:
        try:
            server = Server(bindir)
        except (OSError, LookupError, subprocess.CalledProcessError) as exc:
            detail = getattr(exc, "stderr", b"") or b""
            reason = f"could not start PostgreSQL from {bindir}: {exc} {detail.decode()[-500:]}"
    if server is None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI must run the PostgreSQL tests)")
        pytest.skip(str(reason))
    try:
        yield server.url
    finally:
        server.stop()


# CI's jobs share the two databases out (tests/ci_jobs.py): the store's code is one for both
# (SQLAlchemy, the same version in every job), so the main job runs the history tests on
# SQLite and the oldest on PostgreSQL, a minute of both jobs' 20 (elsewhere: both)
_DATABASE_OF_JOB = {"0": "sqlite", "1": "postgresql"}


@pytest.fixture(params=["sqlite", "postgresql"])
def history_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty history on each database: a new SQLite file, a new PostgreSQL database."""
    job = os.environ.get("CVM_CI_SECONDARY")
    if job in _DATABASE_OF_JOB and request.param != _DATABASE_OF_JOB[job]:
        pytest.skip(f"run on {request.param} by CI's other job (.ci/run): each job runs the "
                    "history tests on one database")
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'history.sqlite'}"
    from tests.pg_server import new_database

    server = request.getfixturevalue("postgres_server")
    return new_database(server, f"cvm_test_{uuid.uuid4().hex[:12]}")


@dataclass(frozen=True)
class GoldenRun:
    """Every command of tests/golden on every bundled example, run once for the session."""
    tmp: Path  # where the examples were copied and the outputs written
    prints: dict[str, str]  # the fingerprints, as golden.fingerprints gives them
    reads: dict[str, Counter[str]]  # per command (NAME/LABEL): the project files it read


@pytest.fixture(scope="session")
def golden_run(tmp_path_factory: pytest.TempPathFactory) -> GoldenRun:
    """Shared by tests/test_golden.py (the fingerprints) and tests/test_read_once.py (how often
    each command read each file): the same commands, which take a minute, run once."""
    from tests import golden
    from tests.read_counts import ReadCounter

    tmp = tmp_path_factory.mktemp("golden").resolve()
    counter = ReadCounter()
    with counter.installed():
        prints = golden.fingerprints(tmp, around=counter.counting)
    return GoldenRun(tmp, prints, counter.found)


@pytest.fixture(scope="session")
def shared_commands(tmp_path_factory: pytest.TempPathFactory) -> SharedCommands:
    """Commands several test files run identically on a bundled example, run once
    (tests/shared_runs.py)."""
    return SharedCommands(tmp_path_factory.mktemp("shared"))


@pytest.fixture(scope="session")
def reviewed_pull_request(tmp_path_factory: pytest.TempPathFactory) -> Reviewed:
    """The CI recipe's review step on a pull request lowering win_back's threshold, run once
    for tests/test_ci_recipe.py and tests/test_fix17_ci.py (each copies its folders before the
    steps that follow); with an empty history of its own, as a test's."""
    from tests.test_ci_recipe import LOWER_WIN_BACK, review

    tmp = tmp_path_factory.mktemp("ci-review")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CVM_HISTORY_URL", str(tmp / "history.sqlite"))
        return review(tmp, LOWER_WIN_BACK)
