"""``data.transactions`` as a prefix on object storage (``s3://bucket/prefix/``) read by one
process, as a local folder of files is (a new user's trial: ``cvm validate`` passed such a
project and ``cvm run`` refused it, "a folder of files is read by --engine dask"); and
``cvm validate`` looking at the header of every data object (a CSV's first line, a Parquet
footer), so that a misnamed column is said there, in the words ``cvm run`` would use, and not
at run. The S3 server is tests/s3_server.py's (moto, 127.0.0.1); one process and
``--engine dask`` on the same prefix: tests/test_dask_engine.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from tests.conftest import BASE_CONFIG, BASE_TX, ROOT
from tests.s3_server import S3, _needed, s3_server
from tests.test_object_store import _retail, _without_run_id

__all__ = ["s3_server"]  # the fixture, used by name
_needed("fsspec")
MakeProject = Callable[..., Path]
RETAIL = ROOT / "examples" / "retail"
COMPARED = ("customers.csv", "decisions.csv", "allocation_summary.csv")
SKIPPED = "note: 1 file skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): README.md"


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def retail_parts(count: int) -> list[pa.Table]:
    """The retail example's transactions cut into ``count`` tables, in order."""
    table = pacsv.read_csv(RETAIL / "transactions.csv", convert_options=pacsv.ConvertOptions(
        column_types={"OrderID": pa.string(), "CustomerID": pa.string()}))
    step = -(-table.num_rows // count)
    return [table.slice(i * step, step) for i in range(count)]


def _with_url(url: str, s3: S3) -> str:
    return BASE_CONFIG.replace("transactions: tx.csv", f"transactions: {url}\n"
                               + s3.storage_options().rstrip("\n"))


def test_a_parquet_prefix_runs_as_the_same_files_in_a_local_folder(
        s3_server: S3, tmp_path: Path) -> None:
    bucket = s3_server.bucket("prefix-run")
    folder = tmp_path / "data" / "ds"
    folder.mkdir(parents=True)
    for i, part in enumerate(retail_parts(3)):
        pq.write_table(part, folder / f"part-{i}.parquet")
        s3_server.upload(bucket, f"ds/part-{i}.parquet", folder / f"part-{i}.parquet")
    for name, body in (("README.md", b"what these files are\n"), ("_SUCCESS", b"")):
        (folder / name).write_bytes(body)
        s3_server.upload(bucket, f"ds/{name}", body)
    customers = str(RETAIL / "customers.csv")
    local = _retail(tmp_path / "local", str(folder), customers)
    remote = _retail(tmp_path / "s3", f"s3://{bucket}/ds/", customers,
                     s3_server.storage_options())
    assert cvm("validate", "-p", str(remote)).exit_code == 0  # and run works: below
    outs = []
    for project, out in ((local, "local"), (remote, "s3"), (remote, "s3-again")):
        got = cvm("run", "-p", str(project), "-o", str(tmp_path / "out" / out),
                  "--no-history")
        assert got.exit_code == 0, got.output
        assert SKIPPED in got.output, got.output
        outs.append(tmp_path / "out" / out)
    for name in COMPARED:
        assert (outs[1] / name).read_bytes() == (outs[0] / name).read_bytes(), name
    actions = [(out / "actions.csv").read_bytes() for out in outs]
    assert _without_run_id(actions[1]) == _without_run_id(actions[0])
    assert len(actions[0].splitlines()) > 1
    assert actions[2] == actions[1]  # the same objects: the same run id
    manifests = [json.loads((out / "manifest.json").read_text()) for out in outs]
    assert manifests[2]["run_id"] == manifests[1]["run_id"] != manifests[0]["run_id"]
    read = sorted(k for k in manifests[1]["inputs"] if k.startswith("s3://"))
    assert read == [f"s3://{bucket}/ds/part-{i}.parquet" for i in range(3)]


def test_a_bad_row_of_a_prefix_is_named_by_its_object_and_line(
        s3_server: S3, make_project: MakeProject) -> None:
    bucket = s3_server.bucket("prefix-bad-row")
    lines = BASE_TX.replace("b,2024-02-01,200.00", "b,2024-02-01,2OO.00").splitlines(True)
    s3_server.upload(bucket, "tx/a.csv", "".join(lines[:3]).encode())
    s3_server.upload(bucket, "tx/b.csv", (lines[0] + "".join(lines[3:])).encode())
    project = make_project(config=_with_url(f"s3://{bucket}/tx/", s3_server), tx=None)
    got = cvm("score", "-p", str(project), "-q")
    assert got.exit_code == 1, got.output
    assert got.stderr.startswith(
        f"error: s3://{bucket}/tx/b.csv:3: row 2, column 'amount': found '2OO.00', expected a "
        "number such as 12.50\n"), got.stderr


def test_csv_and_parquet_objects_under_a_prefix_are_refused_as_in_a_folder(
        s3_server: S3, make_project: MakeProject, tmp_path: Path) -> None:
    import datetime as dt

    pq.write_table(pa.table({"cust": ["a", "b"], "day": pa.array(
        [dt.date(2024, 1, 5), dt.date(2024, 3, 10)]), "amount": [100.0, 50.0],
        "cost": [60.0, 30.0]}), tmp_path / "a.parquet")
    bucket = s3_server.bucket("prefix-mixed")
    s3_server.upload(bucket, "set/a.parquet", tmp_path / "a.parquet")
    s3_server.upload(bucket, "set/b.csv", b"cust,day,amount,cost\nc,2024-02-01,10,6\n")
    project = make_project(config=_with_url(f"s3://{bucket}/set/", s3_server), tx=None)
    got = cvm("score", "-p", str(project), "-o", str(tmp_path / "out"))
    assert (got.exit_code, got.stderr) == (1, (
        f"error: s3://{bucket}/set/: the files of the folder hold column 'day' as dates in "
        "a.parquet and as text in b.csv\n  hint: write every file of the folder with the same "
        "columns and types (a folder of Parquet files, or one of CSV files: CSV files hold "
        "text)\n"))
    assert not (tmp_path / "out").exists()


def test_a_prefix_without_data_is_said_by_run_as_by_validate(
        s3_server: S3, make_project: MakeProject) -> None:
    bucket = s3_server.bucket("prefix-no-data")
    s3_server.upload(bucket, "exports/README.md", b"not data")
    project = make_project(config=_with_url(f"s3://{bucket}/exports/", s3_server), tx=None)
    said = (f"error: s3://{bucket}/exports/: data.transactions (cvm.yaml:3:17): the folder "
            "(prefix) holds no data file\n  hint: a Parquet dataset is a prefix of .parquet "
            "files (CSV files work too); check the prefix\n")
    for command in ("validate", "score"):  # (validate says too that the rules are missing)
        got = cvm(command, "-p", str(project), "-q")
        assert got.exit_code == 1, got.output
        assert said in got.stderr, (command, got.stderr)


TX = (RETAIL / "transactions.csv").read_bytes()
MISNAMED = TX.replace(b"NetAmount", b"Amount", 1)
HEADER = ("error: {file}:1: header: column 'NetAmount' (mapped to amount in cvm.yaml) not "
          "found; columns present: 'OrderID', 'CustomerID', 'OrderDate', 'Category', "
          "'SalesChannel', 'Qty', 'Amount', 'Cost'\n  hint: did you mean 'Amount'?\n")
ONE_ERROR = "1 error(s), 0 warning(s) in 1 file(s)\n"


def _validate(tmp_path: Path, transactions: str, s3: S3,
              customers: str = str(RETAIL / "customers.csv")) -> Result:
    """``cvm validate`` of the retail example reading ``transactions`` (the project in
    ``tmp_path``)."""
    remote = "s3://" in transactions + customers
    return cvm("validate", "-p", str(_retail(tmp_path, transactions, customers,
                                             s3.storage_options() if remote else "")))


def test_validate_says_a_misnamed_column_of_a_csv_object_as_of_a_file(
        s3_server: S3, tmp_path: Path) -> None:
    (tmp_path / "tx.csv").write_bytes(MISNAMED)
    local = _validate(tmp_path / "local", str(tmp_path / "tx.csv"), s3_server)
    file = str(tmp_path / "tx.csv")
    assert (local.exit_code, local.stderr) == (1, HEADER.format(file=file) + ONE_ERROR)
    bucket = s3_server.bucket("misnamed-csv")
    url = s3_server.upload(bucket, "tx.csv", MISNAMED)
    got = _validate(tmp_path / "s3", url, s3_server)
    assert (got.exit_code, got.stderr) == (1, HEADER.format(file=url) + ONE_ERROR)
    score = cvm("score", "-p", str(tmp_path / "s3" / "p"), "-q")  # run's words are the same
    assert (score.exit_code, score.stderr) == (1, HEADER.format(file=url))


def test_validate_says_a_misnamed_column_of_a_parquet_object(
        s3_server: S3, tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_bytes(MISNAMED)
    pq.write_table(pacsv.read_csv(tmp_path / "in.csv"), tmp_path / "tx.parquet")
    bucket = s3_server.bucket("misnamed-parquet")
    url = s3_server.upload(bucket, "tx.parquet", tmp_path / "tx.parquet")
    got = _validate(tmp_path, url, s3_server)
    assert (got.exit_code, got.stderr) == (1, HEADER.format(file=url).replace(":1:", ":", 1)
                                           + ONE_ERROR)


def test_validate_looks_at_each_object_of_a_prefix_and_the_customers(
        s3_server: S3, tmp_path: Path) -> None:
    bucket = s3_server.bucket("misnamed-prefix")
    s3_server.upload(bucket, "set/part-0.csv", TX)
    s3_server.upload(bucket, "set/part-1.csv", MISNAMED)
    customers = s3_server.upload(bucket, "customers.csv", (RETAIL / "customers.csv")
                                 .read_bytes().replace(b"CustomerID", b"CustomerId", 1))
    got = _validate(tmp_path, f"s3://{bucket}/set/", s3_server, customers)
    assert got.exit_code == 1, got.output
    assert got.stderr == (
        HEADER.format(file=f"s3://{bucket}/set/part-1.csv")
        + f"error: {customers}:1: header: column 'CustomerID' (mapped to customer_id in "
        "cvm.yaml) not found; columns present: 'CustomerId', 'SignupDate', "
        "'PreferredChannel', 'EmailOptIn', 'SmsOptIn', 'PhoneOptIn', 'MailOptIn', "
        "'PushOptIn', 'ReferredBy', 'Region'\n  hint: did you mean 'CustomerId'?\n"
        "2 error(s), 0 warning(s) in 2 file(s)\n")


@pytest.mark.parametrize("name", ["tx.csv", "tx.parquet"])
def test_validate_reads_only_the_header_of_an_object(
        s3_server: S3, tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    (tmp_path / "tx.csv").write_bytes(TX + b"".join([TX.split(b"\n", 1)[1]] * 9))
    pq.write_table(pacsv.read_csv(tmp_path / "tx.csv"), tmp_path / "tx.parquet",
                   compression="none", use_dictionary=False)
    assert (tmp_path / name).stat().st_size > 8 << 20
    bucket = s3_server.bucket(f"big-{name.replace('.', '-')}")
    url = s3_server.upload(bucket, name, tmp_path / name)
    fetched: list[int] = []
    fetch = s3fs.core.S3File._fetch_range

    def counted(self: object, start: int, end: int) -> bytes:
        got: bytes = fetch(self, start, end)
        fetched.append(len(got))
        return got

    monkeypatch.setattr(s3fs.core.S3File, "_fetch_range", counted)
    got = _validate(tmp_path, url, s3_server)
    assert got.exit_code == 0, got.output
    assert 0 < sum(fetched) <= 1 << 20, fetched  # a header line or a footer, never the rows


def test_the_readme_shows_the_words_of_these_tests() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Data on object storage"):]
    assert HEADER.format(file="s3://shop-exports/cvm/part-1.csv") in section
