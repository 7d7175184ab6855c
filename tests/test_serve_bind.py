"""`cvm serve --host 999.1.1.1` said "error: --port: cannot listen on 999.1.1.1:8737: Name or
service not known", hint "choose another --port": a new user's trial. The host's problems
(a name that does not resolve, an address not of this machine) name --host."""

from __future__ import annotations

import socket

import pytest

from engine.errors import UsageError
from engine.serve.server import _bind


@pytest.mark.parametrize("host", ["999.1.1.1", "192.0.2.1"])  # no such name; not this machine
def test_a_host_that_cannot_be_listened_on_names_host(host: str) -> None:
    with pytest.raises(UsageError) as found:
        _bind(host, 8737)
    said = found.value.format()
    assert said.startswith(f"--host: cannot listen on {host}:8737: "), said
    assert said.endswith("\n  hint: give an address of this machine: 127.0.0.1 (this machine "
                         "only) or 0.0.0.0 (every network interface)"), said


def test_a_port_in_use_names_port() -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with pytest.raises(UsageError) as found:
            _bind("127.0.0.1", port)
    finally:
        taken.close()
    said = found.value.format()
    assert said == (f"--port: cannot listen on 127.0.0.1:{port}: Address already in use\n"
                    "  hint: choose another --port (or stop what uses it)"), said
