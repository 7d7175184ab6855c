"""Object storage, the review of session 8 (issue 16): no query string (a pre-signed URL's
signature) in a data URL; a store error while reading is the user's input (exit 1), never an
internal error; the name and suffix of an object from the URL's path; "the bucket does not
exist" only when it does not; hints that fit the setting; the files of a folder or prefix
that are not data are counted and said. Small data, in-process (CliRunner), each well under
2 s; the S3 server is tests/s3_server.py's (moto, 127.0.0.1)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.data.object_store import object_hashes, skipped_note
from engine.errors import InputError
from engine.project.object_store import ObjectPath
from tests.conftest import BASE_CONFIG, BASE_TX
from tests.s3_server import S3, _needed, s3_server

__all__ = ["s3_server"]  # the fixture, used by name
_needed("fsspec")
MakeProject = Callable[..., Path]
SIGNED = "tx.csv?X-Amz-Credential=AKIAEXAMPLE%2F20261202&X-Amz-Signature=SECRETSIG123"


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _with_url(url: str, options: str = "") -> str:
    return BASE_CONFIG.replace("transactions: tx.csv", f"transactions: '{url}'\n"
                               + options.rstrip("\n"))


@pytest.mark.parametrize("query", [
    SIGNED.partition("?")[2],
    "sv=2024-01-01&sr=b&sig=SECRETSIG123",  # an Azure SAS
    "X-Goog-Algorithm=GOOG4-RSA-SHA256&X-Goog-Signature=SECRETSIG123",  # a GCS signed URL
])
def test_a_query_string_is_refused_by_validate_and_run(make_project: MakeProject,
                                                       query: str) -> None:
    url = f"https://store.example.com/exports/tx.csv?{query}"
    project = make_project(config=_with_url(url))
    for command in (["validate"], ["score", "-o", str(project / "out")],
                    ["run", "--no-history", "-o", str(project / "out")]):
        got = cvm(command[0], "-p", str(project), *command[1:])
        assert got.exit_code == 1, got.output
        assert "cvm.yaml:3:17: data.transactions: found a query string (?...) in the URL, " \
            "expected none: a pre-signed URL's signature is a credential, and the URL is " \
            "written into the run manifest and the history\n  hint: name the object without " \
            "?...: credentials come from the environment (AWS_* variables, a profile) or " \
            "data.storage_options naming environment variables as ${NAME}; download a " \
            "pre-signed link's file and name it by its path" in got.output, got.output
        assert "SECRETSIG123" not in got.output
        assert not (project / "out").exists()


def test_an_objects_name_and_suffix_come_from_the_urls_path() -> None:
    loc = ObjectPath("https://h.example.com/exports/tx.parquet?versionId=3#frag")
    assert (loc.name, loc.suffix) == ("tx.parquet", ".parquet")
    assert ObjectPath("s3://b/set/").name == "set"


class _HeadOnly(http.server.BaseHTTPRequestHandler):
    """Answers HEAD (the object's info) but fails GET (its bytes) with ``status``: a store
    that throttles (503 SlowDown), refuses to decrypt (403 KMS) or lost the object between
    the two (404)."""

    body = BASE_TX.encode()
    status = 503
    etag = True  # False: the manifest's hash reads the bytes

    def do_HEAD(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(self.body)))
        if self.etag:
            self.send_header("ETag", '"abc"')
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def failing_store() -> Iterator[Callable[..., str]]:
    """``base(status)``: the URL prefix of a server whose GETs fail with ``status``."""
    _needed("aiohttp")
    servers = []

    def base(status: int, etag: bool = True) -> str:
        handler = type("Handler", (_HeadOnly,), {"status": status, "etag": etag})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield base
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "said", "hint"), [
    (503, "the store failed while sending it (ClientResponseError: 503, message='Service "
     "Unavailable', url='{url}')", "the store found the object but failed to send its "
     "bytes: run again (a store may refuse for a while: 503 SlowDown); check that the object "
     "was not replaced or deleted meanwhile"),
    (403, "access denied (403, message='Forbidden', url='{url}')", "the credentials in use "
     "may not read it: check the AWS_* variables, the profile or the role, or "
     "data.storage_options"),
])
@pytest.mark.parametrize("name", ["tx.csv", "tx.parquet"])
def test_a_store_error_while_reading_is_an_input_error(
        make_project: MakeProject, failing_store: Callable[..., str], status: int, said: str,
        hint: str, name: str) -> None:
    url = f"{failing_store(status)}/{name}"
    project = make_project(config=_with_url(url))
    got = cvm("score", "-p", str(project), "-o", str(project / "out"), "-q")
    assert got.exit_code == 1, got.output
    assert f"error: {url}: data.transactions (cvm.yaml:3:17): {said.format(url=url)}\n" \
        f"  hint: {hint}" in got.output, got.output
    assert not (project / "out").exists()


def test_hashing_an_object_names_its_own_setting(failing_store: Callable[..., str]) -> None:
    url = f"{failing_store(503, etag=False)}/customers.csv"
    with pytest.raises(InputError) as got:
        object_hashes({"data.customers": ObjectPath(url, (), "cvm.yaml:4:14")})
    assert [p.format() for p in got.value.problems] == [
        f"{url}: data.customers (cvm.yaml:4:14): the store failed while sending it "
        f"(ClientResponseError: 503, message='Service Unavailable', url='{url}')\n"
        "  hint: the store found the object but failed to send its bytes: run again (a store "
        "may refuse for a while: 503 SlowDown); check that the object was not replaced or "
        "deleted meanwhile"]


def test_a_missing_object_in_a_bucket_named_bucket(s3_server: S3,
                                                   make_project: MakeProject) -> None:
    bucket = s3_server.bucket("x-bucket")
    got = cvm("validate", "-p", str(make_project(config=_with_url(
        f"s3://{bucket}/exports/tx.csv", s3_server.storage_options()))))
    assert got.exit_code == 1, got.output
    assert f"error: s3://{bucket}/exports/tx.csv: data.transactions (cvm.yaml:3:17): file " \
        "not found\n" in got.output, got.output
    got = cvm("validate", "-p", str(make_project(config=_with_url(
        "s3://no-such-x-bucket/tx.csv", s3_server.storage_options()))))
    assert "error: s3://no-such-x-bucket/tx.csv: data.transactions (cvm.yaml:3:17): the " \
        "bucket does not exist" in got.output, got.output


def _customers(url: str, options: str) -> str:
    return BASE_CONFIG.replace("transactions: tx.csv", "transactions: tx.csv\n"
                               f"  customers: {url}\n  customer_columns:\n"
                               "    customer_id: cust\n" + options.rstrip("\n"))


def test_a_customers_prefix_is_told_to_name_one_file(s3_server: S3,
                                                     make_project: MakeProject) -> None:
    bucket = s3_server.bucket("cust-prefix")
    s3_server.upload(bucket, "full/part-0.csv", b"cust\na\n")
    s3_server.upload(bucket, "empty/README.md", b"not data")
    for folder in ("full", "empty"):
        url = f"s3://{bucket}/{folder}/"
        project = make_project(config=_customers(url, s3_server.storage_options()))
        for command in ("validate", "score"):
            got = cvm(command, "-p", str(project), "-q")
            assert got.exit_code == 1, got.output
            assert f"error: {url}" in got.output and "is a folder (a prefix), expected a CSV " \
                "or Parquet file" in got.output and "hint: check data.customers at " \
                "cvm.yaml:4:14; the customers are read from one file: name it" \
                in got.output, (command, got.output)
            assert "dask" not in got.output and "Parquet dataset" not in got.output


SKIPPED = "3 files skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): README.md, " \
    "part-1.csv.gz, sub/part-2.json"


def test_a_folders_files_that_are_not_data_are_counted(make_project: MakeProject) -> None:
    from engine.distributed.route import input_files
    from engine.project.config import load_config

    project = make_project(files={
        "set/part-0.csv": BASE_TX, "set/part-1.csv.gz": b"\x1f\x8b", "set/README.md": "x",
        "set/sub/part-2.json": "{}", "set/_SUCCESS": "", "set/.part-0.csv.crc": "x"},
        config=BASE_CONFIG.replace("transactions: tx.csv", "transactions: set"))
    files, skipped = input_files(load_config(project))
    assert [f.name for f, _ in files] == ["part-0.csv"]
    assert skipped_note(skipped) == SKIPPED


def test_a_prefixs_objects_that_are_not_data_are_counted(s3_server: S3,
                                                        make_project: MakeProject) -> None:
    from engine.distributed.route import input_files
    from engine.project.config import load_config

    bucket = s3_server.bucket("skipped-objects")
    for key, body in (("set/part-0.csv", BASE_TX.encode()), ("set/part-1.csv.gz", b"\x1f"),
                      ("set/README.md", b"x"), ("set/sub/part-2.json", b"{}"),
                      ("set/_SUCCESS", b"")):
        s3_server.upload(bucket, key, body)
    project = make_project(config=_with_url(f"s3://{bucket}/set/",
                                            s3_server.storage_options()))
    files, skipped = input_files(load_config(project))
    assert [str(f) for f, _ in files] == [f"s3://{bucket}/set/part-0.csv"]
    assert skipped_note(skipped) == SKIPPED


def test_a_local_customers_folder_gets_the_hint_of_its_setting(make_project: MakeProject
                                                              ) -> None:
    # (a transactions folder is read by one process too: tests/test_fixtrial16_folder.py)
    project = make_project(config=_customers("tx.csv", "").replace("customers: tx.csv",
                                                                  "customers: set"),
                           files={"set/part-0.csv": BASE_TX})
    got = cvm("score", "-p", str(project), "-q")
    assert got.exit_code == 1, got.output
    assert got.output == "error: set: is a folder, expected a CSV or Parquet file\n" \
        "  hint: check data.customers at cvm.yaml:4:14; the customers are read from one " \
        "file: name it\n", got.output
