"""CI tests what the README and pyproject.toml promise: every supported Python, with the
oldest and the newest pandas allowed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CI = (ROOT / ".ci" / "run").read_text()
README = (ROOT / "README.md").read_text()
PYPROJECT = (ROOT / "pyproject.toml").read_text()


def _minor(version: str) -> int:
    return int(version.split(".")[1])


def test_ci_tests_every_python_the_readme_promises() -> None:
    ci = re.search(r'^PYTHONS="([^"]+)"', CI, flags=re.M)
    assert ci is not None
    promised = re.search(r"^Python ((?:3\.\d+, )*3\.\d+ or 3\.\d+) ", README, flags=re.M)
    assert promised is not None
    readme = re.findall(r"3\.\d+", promised.group(1))
    assert ci.group(1).split() == readme
    low, high = re.search(r'requires-python = ">=(3\.\d+),<(3\.\d+)"', PYPROJECT).groups()  # type: ignore[union-attr]
    assert [_minor(v) for v in readme] == list(range(_minor(low), _minor(high)))


def test_ci_tests_the_oldest_pandas_pyproject_allows() -> None:
    allowed = re.search(r'"pandas>=([\d.]+)"', PYPROJECT)
    assert allowed is not None
    oldest = re.search(r"pandas==([\d.]+)", CI)
    assert oldest is not None
    assert oldest.group(1).split(".")[:2] == allowed.group(1).split(".")[:2]
    assert oldest.group(1).split(".")[2:] in ([], ["0"])  # the first release of that line
    # the newest Python with the newest of everything, the oldest with the oldest pandas
    assert 'JOBS=("py$OLDEST-oldest-pandas $OLDEST" "py$MAIN-newest $MAIN")' in CI
    main = re.search(r"^MAIN=(3\.\d+)", CI, flags=re.M)
    oldest = re.search(r"^OLDEST=(3\.\d+)", CI, flags=re.M)
    pythons = re.search(r'^PYTHONS="([^"]+)"', CI, flags=re.M)
    assert main and oldest and pythons
    assert (oldest.group(1), main.group(1)) == (pythons.group(1).split()[0],
                                                pythons.group(1).split()[-1])


def test_ci_s_pip_compiles_nothing() -> None:
    """.ci/run exports PIP_NO_COMPILE so that pip compiles none of the modules it installs; pip
    reads a ``--no-*`` option's variable as the value of the option's destination (pip issue
    5735: PIP_NO_COMPILE=1 *compiles*, half a minute of each job), so the value set is checked
    by pip's own parser, as pip in CI reads it."""
    import os
    import subprocess
    import sys

    exported = re.search(r"export PIP_NO_COMPILE=(\S+)", CI)
    assert exported is not None
    parsed = subprocess.run(
        [sys.executable, "-c", "from pip._internal.commands import create_command; "
         "print(bool(create_command('install').parse_args([])[0].compile))"],
        env={**os.environ, "PIP_NO_COMPILE": exported.group(1)},
        capture_output=True, text=True, check=True)
    assert parsed.stdout.strip() == "False"
