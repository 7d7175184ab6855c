"""Every ``cvm`` command pays for what it imports: ``--help``, a usage error and a command run
outside any project import none of the heavy libraries, and ``cvm validate`` none of those it
does not use (the history's SQLAlchemy when there is no history yet, the Dask, serve and
scoring stacks). One fresh interpreter runs the commands in turn and says what each left in
``sys.modules``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.history_runs import retail_copy

ROOT = Path(__file__).resolve().parents[1]

# heavy, and needed by none of --help, a usage error, an error before the project is read
NOT_FOR_ERRORS = ("pandas", "numpy", "pyarrow", "scipy", "sqlalchemy", "alembic", "jinja2",
                  "durable", "durable_rules_engine", "dask", "distributed", "fastapi",
                  "uvicorn", "rich")
# not needed to check a project without a history or a database source
NOT_FOR_VALIDATE = ("sqlalchemy", "alembic", "psycopg", "scipy", "dask", "distributed",
                    "fastapi", "uvicorn", "duckdb")

SCRIPT = textwrap.dedent("""
    import contextlib, io, json, os, sys
    from engine.cli import app

    def cvm(*args):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            try:
                app(args=list(args), prog_name="cvm")
            except SystemExit as exc:
                code = exc.code
        return {"exit": code, "out": out.getvalue(),
                "modules": sorted({m.split(".")[0] for m in sys.modules})}

    empty, project = sys.argv[1:3]
    os.chdir(empty)
    found = {"help": cvm("--help"), "usage": cvm("run", "--no-such-option"),
             "no project": cvm("run", "-q")}
    os.chdir(project)
    found["validate"] = cvm("validate")
    print(json.dumps(found))
""")


def retail(tmp_path: Path) -> Path:
    return retail_copy(tmp_path, extra=("policy_tests", "triggers"))


def test_commands_import_only_what_they_use(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    project = retail(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CVM_HISTORY_URL", None)  # the project's default history: not created yet
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(empty), str(project)],
                          capture_output=True, text=True, env=env, check=True, cwd=ROOT)
    found = json.loads(done.stdout)
    assert [found[k]["exit"] for k in ("help", "usage", "no project", "validate")] == \
        [0, 2, 1, 0], done.stdout
    assert "no cvm.yaml found" in found["no project"]["out"]
    assert "valid:" in found["validate"]["out"]
    for command in ("help", "usage", "no project"):
        heavy = sorted(set(found[command]["modules"]) & set(NOT_FOR_ERRORS))
        assert heavy == [], f"cvm {command} imported {heavy}"
    heavy = sorted(set(found["validate"]["modules"]) & set(NOT_FOR_VALIDATE))
    assert heavy == [], f"cvm validate imported {heavy}"
    assert not (project / ".cvm").exists()  # validate wrote no history
