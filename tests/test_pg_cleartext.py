"""A server that asks for the password in clear text never gets it (a review of the security
trial's fixes: a project from someone else naming its own server in `data.transactions` or
`history:` received the user's PGPASSWORD from `cvm validate`). libpq is told to refuse the
clear-text method (require_auth=!password); SCRAM and md5 never send the password."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.history_runs import retail_copy

SECRET = "hunter2-victim-pw"
NEEDS_16 = pytest.mark.skipif(psycopg.pq.version() < 160000,
                              reason="libpq before 16 has no require_auth")


class Collector:
    """A fake PostgreSQL server on 127.0.0.1 that asks every client for its password in clear
    text (AuthenticationCleartextPassword) and keeps what it is sent."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = b""
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            with conn:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    self._session(conn)

    def _session(self, conn: socket.socket) -> None:
        while True:
            head = conn.recv(8)
            if len(head) < 8:
                return
            size, code = struct.unpack("!ii", head)
            if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: not here
                conn.sendall(b"N")
                continue
            conn.recv(size - 8)  # the startup message's parameters
            conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # a clear-text password, please
            while chunk := conn.recv(4096):
                self.received += chunk
            return

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def collector() -> Iterator[Collector]:
    found = Collector()
    try:
        yield found
    finally:
        found.close()


@NEEDS_16
def test_a_source_server_asking_for_the_password_in_clear_gets_nothing(
        collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    config = project / "cvm.yaml"
    config.write_text(config.read_text().replace(
        "transactions: examples/retail/transactions.csv",
        f"transactions:\n    url: postgresql://victim@127.0.0.1:{collector.port}/shop\n"
        "    table: sales"))
    monkeypatch.setenv("PGPASSWORD", SECRET)
    done = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert done.exit_code == 1
    assert SECRET.encode() not in collector.received
    assert (
        f"error: postgresql://victim@127.0.0.1:{collector.port}/shop (table sales): "
        "data.transactions (cvm.yaml:6:5): connection failed: ") in done.stderr
    assert "  hint: the server asks for the password in clear text, which cvm never sends: " \
        "a server of yours should ask for scram-sha-256 (pg_hba.conf); a project from " \
        "someone else may name a server that collects passwords\n" in done.stderr


@NEEDS_16
def test_a_history_server_asking_for_the_password_in_clear_gets_nothing(
        collector: Collector, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = retail_copy(tmp_path)
    url = f"postgresql://victim@127.0.0.1:{collector.port}/marketing"
    monkeypatch.setenv("CVM_HISTORY_URL", url)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    done = CliRunner().invoke(app, ["validate", "-p", str(project)])
    assert done.exit_code == 1
    assert SECRET.encode() not in collector.received
    assert "the server asks for the password in clear text" in done.stderr, done.stderr
