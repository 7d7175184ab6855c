"""README "Real time: `cvm serve`" is true: its curl examples, the key error, the start line,
the endpoint table and the Python client's output, against the service started for real."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.serve.server import Running
from tests.serve_util import KEY, ROOT, client, example_copy, serving

README = (ROOT / "README.md").read_text()
SECTION = README[README.index("## Real time: `cvm serve`"):]
SECTION = SECTION[:SECTION.index("\n## ", 5)]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return example_copy(tmp_path_factory.mktemp("serve-readme"))


@pytest.fixture(scope="module")
def service(project: Path) -> Iterator[Running]:
    with serving(project) as running:
        yield running


def _block(lang: str, containing: str) -> str:
    return next(b for b in re.findall(rf"```{lang}\n(.*?)```", SECTION, flags=re.S)
                if containing in b)


def test_curl_examples(service: Running) -> None:
    with client(service) as http:
        iid = http.post("/v1/customers/C000005/next-best-action").json()["interaction_id"]
    lines = _block("bash", "curl").strip().splitlines()
    assert len(lines) == 8
    with httpx.Client(timeout=30) as http:
        for line in lines:
            words = shlex.split(line.replace("$CVM_SERVE_KEY", KEY)
                                .replace("INTERACTION_ID", iid)
                                .replace("http://127.0.0.1:8000", service.url))
            assert words[:2] == ["curl", "-s"]
            method, headers, data, url = "GET", {}, None, None
            rest = iter(words[2:])
            for word in rest:
                if word == "-H":
                    name, _, value = next(rest).partition(": ")
                    headers[name] = value
                elif word == "-X":
                    method = next(rest)
                elif word == "-d":
                    data = next(rest)
                else:
                    url = word
            assert url is not None
            answer = http.request(method, url, headers=headers, content=data)
            assert answer.status_code == 200, (line, answer.text)
            if url.endswith("/health"):
                assert answer.json() == {"status": "ok"}


def test_endpoint_table_lists_every_endpoint(service: Running) -> None:
    documented = set(re.findall(r"^\| `(GET|POST) (/[^` ]*)`", SECTION, flags=re.M))
    with client(service) as http:
        paths = http.get("/openapi.json").json()["paths"]
    served = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert documented == served


def test_key_error_and_start_line(project: Path, monkeypatch: pytest.MonkeyPatch,
                                  service: Running) -> None:
    monkeypatch.delenv("CVM_SERVE_KEY", raising=False)
    result = CliRunner().invoke(app, ["serve", str(project)])
    assert result.exit_code == 2
    assert result.stderr.strip() == _block("", "error: CVM_SERVE_KEY").strip()
    start = _block("console", "cvm serve").strip().splitlines()[-1]
    pattern = re.escape(start).replace("86d9d5d712e66867", "[0-9a-f]{16}").replace("8000",
                                                                                   r"\d+")
    state = service.holder.state
    line = (f"Serving run {state.run_id} ({len(state.ready):,} customers as of "
            f"{state.run.as_of}) on {service.url}  (docs: {service.url}/docs, agent "
            f"screen: {service.url}/agent/)")
    assert re.fullmatch(pattern, line), (pattern, line)


def test_python_client_example(service: Running) -> None:
    expected = _block("console", "serve_client.py").strip().splitlines()
    command = shlex.split(expected[0].removeprefix("$ "))
    assert command[:2] == ["python", "examples/serve_client.py"]
    done = subprocess.run([sys.executable, *command[1:], "--url", service.url], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, "CVM_SERVE_KEY": KEY})
    assert done.returncode == 0, done.stdout + done.stderr
    got = done.stdout.strip().splitlines()
    assert got[:-1] == expected[1:-1]
    assert re.fullmatch(r"recorded: accepted \([0-9a-f]{32}\)", got[-1])
    assert expected[-1] == "recorded: accepted (...)"
