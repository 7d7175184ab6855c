"""``data.transactions`` and ``data.customers`` on object storage (issue 16, item 3): read
through fsspec from a real S3-compatible server on 127.0.0.1 (moto's server mode,
tests/s3_server.py). The same rows give the same outputs as local files; a bad row is reported
at the object's URL and row; ``cvm validate`` says what is wrong with a location (exit 1) with
a hint; no credential is written anywhere. The Dask engine's reading from a store is checked in
tests/test_dask_engine.py (on its local cluster)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from engine.cli import app
from engine.project.config import load_config
from engine.project.object_store import ObjectPath
from engine.run.job import input_hashes
from tests.conftest import BASE_CONFIG, BASE_TX, ROOT
from tests.s3_server import CREDENTIALS, S3, _needed, s3_server
from tests.shared_runs import SharedCommands

__all__ = ["s3_server"]  # the fixture, used by name
_needed("fsspec")  # the [dev] extra installs it (CI fails without it; else the module skips)

RETAIL = ROOT / "examples" / "retail"
COMPARED = ("customers.csv", "customers.parquet", "decisions.csv", "allocation_summary.csv")


def cvm(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _retail(tmp_path: Path, transactions: str, customers: str, extra: str = "") -> Path:
    """The bundled example as a project whose data are named ``transactions``, ``customers``."""
    project = tmp_path / "p"
    project.mkdir(parents=True, exist_ok=True)
    for name in ("rules", "policies", "templates"):
        if not (project / name).exists():
            shutil.copytree(ROOT / name, project / name)
    text = (ROOT / "cvm.yaml").read_text()
    text = text.replace("examples/retail/transactions.csv", transactions) \
        .replace("examples/retail/customers.csv", customers) \
        .replace("data:\n", "data:\n" + extra, 1)
    (project / "cvm.yaml").write_text(text)
    return project


def _without_run_id(actions: bytes) -> bytes:
    """actions.csv without its first column: the run id hashes the inputs by name (a URL here,
    a path there)."""
    return b"\n".join(line.partition(b",")[2] for line in actions.split(b"\n"))


def test_the_same_rows_on_s3_give_the_same_outputs(s3_server: S3, tmp_path: Path,
                                                   shared_commands: SharedCommands,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    bucket = s3_server.bucket("same-rows")
    tx = s3_server.upload(bucket, "exports/transactions.csv", RETAIL / "transactions.csv")
    cu = s3_server.upload(bucket, "exports/customers.csv", RETAIL / "customers.csv")
    local = shared_commands.run_example(ROOT)  # `cvm run` of the example, once a session
    assert local.exit_code == 0, local.stderr
    # the secret by name only: its value must appear in no file written
    monkeypatch.setenv("CVM_S3_SECRET", CREDENTIALS["AWS_SECRET_ACCESS_KEY"])
    monkeypatch.setenv("CVM_S3_KEY", CREDENTIALS["AWS_ACCESS_KEY_ID"])
    options = f"  storage_options:\n    endpoint_url: {s3_server.endpoint}\n" \
        "    secret: ${CVM_S3_SECRET}\n    key: ${CVM_S3_KEY}\n"
    remote = _retail(tmp_path, tx, cu, options)
    got = cvm("run", "-p", str(remote), "-o", str(tmp_path / "out"), "-q")
    assert got.exit_code == 0, got.output
    for name in COMPARED:
        assert (tmp_path / "out" / name).read_bytes() == (local.out / name).read_bytes(), name
    actions = [(folder / "actions.csv").read_bytes() for folder in (local.out, tmp_path / "out")]
    assert _without_run_id(actions[1]) == _without_run_id(actions[0])
    assert len(actions[0].splitlines()) > 1
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert {tx, cu} <= set(manifest["inputs"])
    secret = CREDENTIALS["AWS_SECRET_ACCESS_KEY"].encode()
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and secret in p.read_bytes()]
    # deterministic: the objects' hashes (so the run id) are the store's, not the read's
    assert input_hashes(load_config(remote)) == manifest["inputs"]


def _project(make_project: object, s3: S3, url: str) -> Path:
    config = BASE_CONFIG.replace("transactions: tx.csv", f"transactions: {url}\n"
                                 + s3.storage_options().rstrip("\n"))
    return make_project(config=config)  # type: ignore[operator, no-any-return]


def test_a_bad_row_is_reported_at_the_objects_url_and_row(s3_server: S3, make_project: object
                                                         ) -> None:
    bucket = s3_server.bucket("bad-row")
    url = s3_server.upload(bucket, "tx.csv", BASE_TX.replace("2024-05-15", "2024-15-05")
                           .encode())
    project = _project(make_project, s3_server, url)
    got = cvm("score", "-p", str(project), "-o", str(project / "out"))
    assert got.exit_code == 1, got.output
    assert f"error: {url}:6: row 5, column 'day': found '2024-15-05', expected a date" \
        in got.output, got.output
    assert "Traceback" not in got.output


def test_a_parquet_object_is_read(s3_server: S3, make_project: object, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    (tmp_path / "in.csv").write_text(BASE_TX)
    pq.write_table(pacsv.read_csv(tmp_path / "in.csv"), tmp_path / "tx.parquet")
    bucket = s3_server.bucket("parquet-object")
    url = s3_server.upload(bucket, "tx.parquet", tmp_path / "tx.parquet")
    project = _project(make_project, s3_server, url)
    got = cvm("score", "-p", str(project), "-o", str(project / "out"), "-q")
    assert got.exit_code == 0, got.output
    local = cvm("score", "-p", str(make_project()), "-o",  # type: ignore[operator]
                str(tmp_path / "local"), "-q")
    assert local.exit_code == 0, local.output
    assert (project / "out" / "customers.csv").read_bytes() == \
        (tmp_path / "local" / "customers.csv").read_bytes()


def _validate(make_project: object, s3: S3, url: str) -> Result:
    return cvm("validate", "-p", str(_project(make_project, s3, url)))


def test_validate_says_the_bucket_does_not_exist(s3_server: S3, make_project: object) -> None:
    got = _validate(make_project, s3_server, "s3://no-such-bucket/tx.csv")
    assert got.exit_code == 1, got.output
    assert "error: s3://no-such-bucket/tx.csv: data.transactions (cvm.yaml:3:17): the bucket " \
        "does not exist" in got.output, got.output
    assert "hint: check data.transactions at cvm.yaml:3:17: the bucket name, the prefix and " \
        "the object's name (a folder of files ends with /)" in got.output


def test_validate_says_an_object_is_missing(s3_server: S3, make_project: object) -> None:
    bucket = s3_server.bucket("missing-object")
    got = _validate(make_project, s3_server, f"s3://{bucket}/exports/tx.csv")
    assert got.exit_code == 1, got.output
    assert f"error: s3://{bucket}/exports/tx.csv: data.transactions (cvm.yaml:3:17): file not " \
        "found" in got.output, got.output


def test_validate_says_a_prefix_holds_no_data_file(s3_server: S3, make_project: object
                                                  ) -> None:
    bucket = s3_server.bucket("no-data")
    s3_server.upload(bucket, "exports/README.md", b"not data")
    s3_server.upload(bucket, "exports/_SUCCESS", b"")
    got = _validate(make_project, s3_server, f"s3://{bucket}/exports/")
    assert got.exit_code == 1, got.output
    assert f"error: s3://{bucket}/exports/: data.transactions (cvm.yaml:3:17): the folder " \
        "(prefix) holds no data file" in got.output, got.output


def test_validate_passes_a_reachable_prefix_with_files(s3_server: S3, tmp_path: Path) -> None:
    bucket = s3_server.bucket("good-prefix")
    tx = s3_server.upload(bucket, "set/part-0.csv", RETAIL / "transactions.csv")
    cu = s3_server.upload(bucket, "customers.csv", RETAIL / "customers.csv")
    project = _retail(tmp_path, tx.rpartition("/")[0] + "/", cu, s3_server.storage_options())
    got = cvm("validate", "-p", str(project))
    assert got.exit_code == 0, got.output
    # a prefix for the customers file is not a file (every engine reads one customers file)
    project = _retail(tmp_path, tx, f"s3://{bucket}/set/", s3_server.storage_options())
    got = cvm("validate", "-p", str(project))
    assert got.exit_code == 1, got.output
    assert f"error: s3://{bucket}/set/: data.customers (cvm.yaml:8:14): is a folder (a " \
        "prefix), expected a CSV or Parquet file" in got.output, got.output


def test_a_missing_fsspec_package_names_what_to_install(make_project: object) -> None:
    config = BASE_CONFIG.replace("transactions: tx.csv", "transactions: gs://bucket/tx.csv")
    got = cvm("validate", "-p", str(make_project(config=config)))  # type: ignore[operator]
    assert got.exit_code == 1, got.output
    assert "error: gs://bucket/tx.csv: data.transactions (cvm.yaml:3:17): reading gs:// needs " \
        "the package gcsfs, which is not installed" in got.output, got.output
    assert "hint: pip install gcsfs" in got.output


def test_credentials_never_go_into_cvm_yaml(make_project: object) -> None:
    config = BASE_CONFIG.replace("transactions: tx.csv", "transactions: s3://b/tx.csv\n"
                                 "  storage_options:\n    secret: abc123\n")
    got = cvm("validate", "-p", str(make_project(config=config)))  # type: ignore[operator]
    assert got.exit_code == 1, got.output
    assert "cvm.yaml:5:13: data.storage_options.secret: found the value of 'secret' written " \
        "out, expected the name of an environment variable that holds it, as ${NAME}" \
        in got.output, got.output
    assert "abc123" not in got.output
    in_url = BASE_CONFIG.replace("transactions: tx.csv",
                                 "transactions: s3://AKIA:abc123@bucket/tx.csv")
    got = cvm("validate", "-p", str(make_project(config=in_url)))  # type: ignore[operator]
    assert got.exit_code == 1, got.output
    assert "data.transactions: found credentials in the URL, expected none" in got.output
    assert "abc123" not in got.output


def test_an_unset_environment_variable_is_named(s3_server: S3, make_project: object,
                                                monkeypatch: object) -> None:
    monkeypatch.delenv("CVM_TEST_UNSET", raising=False)  # type: ignore[attr-defined]
    config = BASE_CONFIG.replace("transactions: tx.csv", "transactions: s3://b/tx.csv\n"
                                 "  storage_options:\n    token: ${CVM_TEST_UNSET}\n")
    got = cvm("validate", "-p", str(make_project(config=config)))  # type: ignore[operator]
    assert got.exit_code == 1, got.output
    assert "data.storage_options.token: environment variable CVM_TEST_UNSET is not set" \
        in got.output, got.output


def test_storage_options_without_a_url_are_refused(make_project: object) -> None:
    config = BASE_CONFIG.replace("transactions: tx.csv", "transactions: tx.csv\n"
                                 "  storage_options:\n    anon: true\n")
    got = cvm("validate", "-p", str(make_project(config=config)))  # type: ignore[operator]
    assert got.exit_code == 1, got.output
    assert "data.storage_options: storage_options is set but neither data.transactions nor " \
        "data.customers is an object-storage URL" in got.output, got.output


def test_access_denied_is_said_with_a_hint(s3_server: S3, make_project: object) -> None:
    bucket = s3_server.bucket("private")
    url = s3_server.upload(bucket, "tx.csv", BASE_TX.encode())
    config = BASE_CONFIG.replace("transactions: tx.csv", f"transactions: {url}\n"
                                 + s3_server.storage_options() + "    anon: true")
    got = cvm("score", "-p", str(make_project(config=config)), "-q")  # type: ignore[operator]
    assert got.exit_code == 1, got.output
    assert f"error: {url}: data.transactions (cvm.yaml:3:17): access denied (Forbidden)\n" \
        "  hint: the credentials in use may not read it: check the AWS_* variables, the " \
        "profile or the role, or data.storage_options" in got.output, got.output


def test_the_readme_example_loads(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S)
                 if "transactions: s3://" in b)
    (tmp_path / "cvm.yaml").write_text(block)
    config = load_config(tmp_path)
    assert config.data.transactions == ObjectPath(
        "s3://shop-exports/cvm/transactions.parquet",
        (("endpoint_url", "https://minio.example.com:9000"), ("profile", "analytics")),
        "cvm.yaml:2:17")
    assert config.display(config.data.customers) == "s3://shop-exports/cvm/customers.csv"
    # the error lines the README shows are the tests' (tests/test_object_store.py)
    section = readme[readme.index("### Data on object storage"):]
    assert "error: s3://no-such-bucket/tx.csv: data.transactions (cvm.yaml:3:17): the bucket " \
        "does not exist" in section


def test_one_process_reads_a_prefix_as_a_local_folder(
        s3_server: S3, tmp_path: Path, shared_commands: SharedCommands) -> None:
    # `cvm validate` passed a prefix that one process then refused (a new user's trial): one
    # process now reads it as it reads a local folder, the objects in the order of their paths
    bucket = s3_server.bucket("prefix-one-process")
    header, *rows = (RETAIL / "transactions.csv").read_text().splitlines(keepends=True)
    half = len(rows) // 2
    s3_server.upload(bucket, "set/part-0.csv", (header + "".join(rows[:half])).encode())
    s3_server.upload(bucket, "set/part-1.csv", (header + "".join(rows[half:])).encode())
    s3_server.upload(bucket, "set/README.md", b"exported nightly\n")
    s3_server.upload(bucket, "set/_SUCCESS", b"")
    cu = s3_server.upload(bucket, "customers.csv", RETAIL / "customers.csv")
    project = _retail(tmp_path, f"s3://{bucket}/set/", cu, s3_server.storage_options())
    assert cvm("validate", "-p", str(project)).exit_code == 0
    got = cvm("run", "-p", str(project), "-o", str(tmp_path / "out"))
    assert got.exit_code == 0, got.output
    assert "note: 1 file skipped (suffix not .parquet, .pq, .csv, .txt or .tsv): README.md" \
        in got.output, got.output
    local = shared_commands.run_example(ROOT)
    for name in COMPARED:
        assert (tmp_path / "out" / name).read_bytes() == (local.out / name).read_bytes(), name
    actions = [(folder / "actions.csv").read_bytes() for folder in (local.out, tmp_path / "out")]
    assert _without_run_id(actions[1]) == _without_run_id(actions[0])
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert sorted(k for k in manifest["inputs"] if k.startswith("s3://")) == \
        [cu, f"s3://{bucket}/set/part-0.csv", f"s3://{bucket}/set/part-1.csv"]
    # a bad row is named by its own object and its line in that object
    bad = rows[half + 2].split(",")
    date_at = header.rstrip("\n").split(",").index("OrderDate")
    bad[date_at] = "2024-15-05"
    s3_server.upload(bucket, "set/part-1.csv", (header + "".join(
        rows[half:half + 2]) + ",".join(bad) + "".join(rows[half + 3:])).encode())
    got = cvm("score", "-p", str(project), "-o", str(tmp_path / "score"), "-q")
    assert got.exit_code == 1, got.output
    assert f"error: s3://{bucket}/set/part-1.csv:4: row 3, column 'OrderDate': found " \
        "'2024-15-05', expected a date" in got.output, got.output


def test_an_empty_object_is_said_by_validate_and_run(s3_server: S3, make_project: object
                                                    ) -> None:
    bucket = s3_server.bucket("empty-object")
    url = s3_server.upload(bucket, "tx.csv", b"")
    project = _project(make_project, s3_server, url)
    for command in ("validate", "score"):
        got = cvm(command, "-p", str(project), "-q")
        assert got.exit_code == 1, got.output
        assert f"error: {url}" in got.output and "the file is empty, expected a header line " \
            "and data rows" in got.output, got.output


def test_validate_checks_the_columns_of_objects(s3_server: S3, tmp_path: Path) -> None:
    # a misnamed column on a store passed validate and stopped the run (a new user's trial)
    import pyarrow as pa
    import pyarrow.parquet as pq

    bucket = s3_server.bucket("object-columns")
    text = (RETAIL / "customers.csv").read_text()
    cu = s3_server.upload(bucket, "customers.csv", text.replace("SmsOptIn", "SMSOptIn", 1)
                          .encode())
    tx = (RETAIL / "transactions.csv").read_text()
    s3_server.upload(bucket, "set/part-0.csv", tx.encode())
    pq.write_table(pa.table({"CustomerID": ["C1"], "OrderDate": ["2024-01-01"]}),
                   tmp_path / "part.parquet")
    s3_server.upload(bucket, "set/part-1.parquet", tmp_path / "part.parquet")
    project = _retail(tmp_path, f"s3://{bucket}/set/", cu, s3_server.storage_options())
    got = cvm("validate", "-p", str(project))
    assert got.exit_code == 1, got.output
    assert got.stderr.startswith(
        f"error: s3://{bucket}/set/part-1.parquet: header: column 'NetAmount' (mapped to amount "
        "in cvm.yaml) not found; columns present: 'CustomerID', 'OrderDate'\n"
        "  hint: fix the column name under data.columns.amount in cvm.yaml\n"), got.stderr
    assert f"error: {cu}:1: header: column 'SmsOptIn' (data.consents.sms in cvm.yaml) not " \
        "found; columns present: " in got.stderr
    assert "  hint: did you mean 'SMSOptIn'?\n" in got.stderr
    assert "error: s3://object-columns/set/part-0.csv" not in got.stderr


def test_a_missing_object_does_not_hide_the_others_columns(s3_server: S3, tmp_path: Path
                                                           ) -> None:
    # a reviewer: one location's problem turned off the header checks of every object
    bucket = s3_server.bucket("one-missing")
    tx = s3_server.upload(bucket, "tx.csv", (RETAIL / "transactions.csv").read_text()
                          .replace("NetAmount", "Net_Amount", 1).encode())
    project = _retail(tmp_path, tx, f"s3://{bucket}/nope.csv", s3_server.storage_options())
    got = cvm("validate", "-p", str(project))
    assert got.exit_code == 1, got.output
    assert f"error: s3://{bucket}/nope.csv: data.customers (cvm.yaml:8:14): " in got.stderr
    assert f"error: {tx}:1: header: column 'NetAmount' (mapped to amount in cvm.yaml) not " \
        "found" in got.stderr, got.stderr


def test_a_prefix_s_objects_without_rows_are_skipped(s3_server: S3, make_project: object
                                                    ) -> None:
    """As a local folder's files (tests/test_empty_part_files.py): an empty object of a prefix
    stopped validate (`the file is empty`), one of a header alone every command."""
    bucket = s3_server.bucket("empty-parts")
    header = BASE_TX.splitlines(keepends=True)[0]
    for name, body in (("part-0.csv", BASE_TX), ("part-1.csv", ""), ("part-2.csv", header),
                       ("part-3.parquet", "")):
        url = s3_server.upload(bucket, f"set/{name}", body.encode())
    prefix = url.rsplit("/", 1)[0]
    project = _project(make_project, s3_server, prefix + "/")
    got = cvm("validate", "-p", str(project))  # (a project of data alone: other errors)
    assert f"error: {prefix}" not in got.output and "rules/lifecycle.yaml" in got.output
    got = cvm("score", "-p", str(project), "-o", str(project / "out"))
    assert got.exit_code == 0, got.output
    assert "  note: 3 files without rows skipped (empty, or a header alone): part-1.csv, " \
        "part-2.csv, part-3.parquet\n" in got.output, got.output
