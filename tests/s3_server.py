"""A real S3-compatible server on 127.0.0.1 for the object-storage tests: moto's server mode
(HTTP, in this process, a thread), with a bucket to upload into. The engine reaches it as it
reaches S3 (s3fs, botocore's HTTP), through ``endpoint_url`` in ``data.storage_options``."""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest


def _needed(name: str) -> Any:
    """The [dev] extra installs them: CI (CI=1) fails without them rather than skipping."""
    return importlib.import_module(name) if os.environ.get("CI") == "1" \
        else pytest.importorskip(name)

# moto accepts any credentials; botocore needs some to sign with
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing-key-id", "AWS_SECRET_ACCESS_KEY": "testing-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass(frozen=True)
class S3:
    endpoint: str  # http://127.0.0.1:PORT
    client: Any  # boto3's S3 client on it

    def bucket(self, name: str, acl: str = "private") -> str:
        self.client.create_bucket(Bucket=name, ACL=acl)
        return name

    def upload(self, bucket: str, key: str, file: Path | bytes, acl: str = "private") -> str:
        body = file if isinstance(file, bytes) else file.read_bytes()
        self.client.put_object(Bucket=bucket, Key=key, Body=body, ACL=acl)
        return f"s3://{bucket}/{key}"

    def storage_options(self) -> str:
        """``data.storage_options`` of cvm.yaml pointing at this server (YAML lines)."""
        return f"  storage_options:\n    endpoint_url: {self.endpoint}\n"


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3]:
    moto_server, boto3 = _needed("moto.server"), _needed("boto3")
    _needed("s3fs")
    saved = {k: os.environ.get(k) for k in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        yield S3(endpoint, boto3.client("s3", endpoint_url=endpoint))
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
