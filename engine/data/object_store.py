"""Reading data files from object storage (``s3://``, ``gs://``, ``abfs://``, ``https://``...)
through fsspec (the ``cloud`` extra: fsspec and s3fs; other protocols need their own fsspec
package, named in the error when missing).

The readers of ``engine.data.tabular`` take an opened object where they take a local file, so
an object is checked exactly as a file is (same messages, the object's URL as the file, the
same row numbers). The filesystem is opened where the object is read (on a Dask worker, there),
with that process's credentials: ``${NAME}`` in ``data.storage_options`` is read from its
environment then, and no credential is ever held in a setting, a message or a manifest.
Every error of the store (missing bucket or object, access denied, no credentials, an
unreachable endpoint, the protocol's package not installed) becomes an ``InputError`` with a
hint.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

from engine.data.storage_env import unset_problems
from engine.errors import InputError, Problem, printable
from engine.project.config import Config
from engine.project.object_store import ENV_REF, ObjectPath

CLOUD_HINT = "install the cloud extra: pip install 'cvm-engine[cloud]'"
# the fsspec package of each protocol, for the hint when it is missing
PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "abfs": "adlfs",
            "abfss": "adlfs", "az": "adlfs", "http": "aiohttp", "https": "aiohttp"}
# the files of a folder or prefix that hold data (declared once: engine.distributed.route
# reads a local folder's by them too); other names are counted and said (skipped_note)
DATA_SUFFIXES = (".parquet", ".pq", ".csv", ".txt", ".tsv")
# what an object's info may call a fingerprint of its bytes (S3, GCS, Azure, HTTP)
_TAGS = ("ETag", "etag", "md5Hash", "content_md5", "crc32c")


def _options(loc: ObjectPath) -> dict[str, Any]:
    """``data.storage_options`` with ``${NAME}`` read from this process's environment."""
    def value(key: str, v: Any) -> Any:
        if isinstance(v, tuple):
            return {k: value(f"{key}.{k}", x) for k, x in v}
        ref = ENV_REF.match(v) if isinstance(v, str) else None
        if ref is None:
            return v
        return os.environ[ref.group(1)]
    if problems := unset_problems(loc.options, loc.setting_at):  # each one, not the first
        raise InputError(problems)
    return {k: value(k, v) for k, v in loc.options}


def filesystem(loc: ObjectPath, setting: str = "data.transactions") -> tuple[Any, str]:
    """fsspec's filesystem for ``loc`` and the path on it."""
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise InputError(Problem(
            f"reading {loc.protocol}:// needs fsspec, which is not installed", file=loc.url,
            key=f"{setting} ({loc.setting_at})", hint=CLOUD_HINT)) from None
    options = _options(loc)
    try:
        fs, path = url_to_fs(loc.url, **options)
    except ImportError as exc:
        package = PACKAGES.get(loc.protocol)
        raise InputError(Problem(
            f"reading {loc.protocol}:// needs the package {package or 'of its fsspec protocol'}"
            f", which is not installed ({exc})", file=loc.url,
            key=f"{setting} ({loc.setting_at})",
            hint=CLOUD_HINT if package == "s3fs" else f"pip install {package}" if package
            else "see fsspec's list of protocols and install the package it names")) from None
    except ValueError as exc:  # fsspec: "Protocol not known"
        raise InputError(Problem(
            f"found the protocol {loc.protocol!r}, which fsspec does not know ({exc})",
            file=loc.url, key=f"{setting} ({loc.setting_at})",
            hint="write s3://, gs://, abfs://, https:// ... or a path in the project")) from None
    except TypeError as exc:  # an option the filesystem does not take
        raise InputError(Problem(
            f"the {loc.protocol}:// filesystem refused data.storage_options ({exc})",
            file=loc.url, key=f"data.storage_options ({loc.setting_at})",
            hint="use the option names of the protocol's fsspec package (e.g. s3fs: "
            "endpoint_url, anon, profile, key, secret)")) from None
    return fs, str(path)


def store_problem(loc: ObjectPath, exc: BaseException, setting: str,
                  fs: Any = None, reading: bool = False) -> Problem:
    """The error of the store as a problem: file = the URL, a hint by cause; ``fs``: the
    filesystem, asked whether the bucket exists when the object is not found; ``reading``:
    the error came while the object's bytes were read (its info had answered)."""
    key = f"{setting} ({loc.setting_at})"
    name = type(exc).__name__
    text = str(exc).strip() or name
    if isinstance(exc, PermissionError) or "AccessDenied" in text or "Forbidden" in text:
        return Problem(f"access denied ({text})", file=loc.url, key=key, hint=(
            "the credentials in use may not read it: check the AWS_* variables, the profile "
            "or the role, or data.storage_options"))
    if name in ("NoCredentialsError", "PartialCredentialsError") or "credentials" in text:
        return Problem(f"no credentials to read it ({text})", file=loc.url, key=key, hint=(
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE), or name "
            "environment variables in data.storage_options; anon: true for a public bucket"))
    if isinstance(exc, FileNotFoundError):
        return Problem(
            ("the bucket does not exist" if _no_bucket(loc, fs) else "file not found")
            + (f" ({text})" if text and text != loc.url.split('://', 1)[1] else ""),
            file=loc.url, key=key, hint=f"check {setting} at {loc.setting_at}: the bucket "
            "name, the prefix and the object's name (a folder of files ends with /)"
            + ("; it may have been deleted while it was read" if reading else ""))
    if reading:
        return Problem(f"the store failed while sending it ({name}: {text})", file=loc.url,
                       key=key, hint="the store found the object but failed to send its "
                       "bytes: run again (a store may refuse for a while: 503 SlowDown); "
                       "check that the object was not replaced or deleted meanwhile")
    return Problem(f"cannot be read from the store ({name}: {text})", file=loc.url, key=key,
                   hint="check the URL and that the store can be reached (endpoint_url in "
                   "data.storage_options for an S3-compatible server)")


def _no_bucket(loc: ObjectPath, fs: Any) -> bool:
    """Whether the bucket of ``loc`` is missing, asked of the store (never read from an
    error's text: a bucket may be named x-bucket); False when it cannot be told (HTTP has
    no bucket; a store that refuses the question)."""
    if fs is None or loc.protocol in ("http", "https"):
        return False
    bucket = fs._strip_protocol(loc.url).split("/", 1)[0]
    try:
        fs.invalidate_cache(bucket)
        fs.info(bucket)
    except FileNotFoundError:
        return True
    except Exception:  # no answer (refused): the object is said missing, as found
        return False
    return False


def info(loc: ObjectPath, setting: str = "data.transactions") -> dict[str, Any]:
    """The object's (or prefix's) info: ``type`` (file or directory), ``size``, its tag."""
    fs, path = filesystem(loc, setting)
    try:
        fs.invalidate_cache(path)
        found: dict[str, Any] = fs.info(path)
    except Exception as exc:  # every store error is the user's input: said with a hint
        raise InputError(store_problem(loc, exc, setting, fs)) from None
    return found


class _Reading:
    """An opened object whose every error of the store, while it is read, becomes the
    user's ``InputError`` (a 503, a key the store may not decrypt with, the object deleted
    since it was opened), kept in ``failed`` too: a reader (pyarrow) may wrap it in its own
    exception, and ``opened`` says the store's error, not the reader's."""

    def __init__(self, fh: Any, loc: ObjectPath, setting: str) -> None:
        self._fh, self._loc, self._setting = fh, loc, setting
        self.failed: Problem | None = None

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._fh, name)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return found(*args, **kwargs)
            except Exception as exc:
                if self.failed is None:
                    self.failed = store_problem(self._loc, exc, self._setting, reading=True)
                raise InputError(self.failed) from None
        return call

    def __iter__(self) -> Iterator[bytes]:
        return iter(self._fh)


@contextmanager
def opened(loc: ObjectPath, setting: str = "data.transactions", *, head: bool = False
           ) -> Iterator[IO[bytes]]:
    """The object, open for reading (random access: Parquet reads its footer first); an
    error of the store while it is read is an ``InputError`` naming the URL. ``head``: only
    a header line or a footer is read, so each read asks the store for its own bytes alone,
    never for a block of read-ahead (s3fs reads 50 MB ahead: a whole object, often)."""
    fs, path = filesystem(loc, setting)
    try:
        fh = fs.open(path, "rb", **({"cache_type": "none"} if head else {}))
    except Exception as exc:
        raise InputError(store_problem(loc, exc, setting, fs)) from None
    reading = _Reading(fh, loc, setting)
    with fh:
        try:
            yield reading  # type: ignore[misc]
        except Exception:
            if reading.failed is not None:  # whatever the reader made of the store's error
                raise InputError(reading.failed) from None
            raise


def files_under(loc: ObjectPath, setting: str = "data.transactions"
                ) -> tuple[list[tuple[ObjectPath, int]], list[str]]:
    """The data files of a prefix (with their sizes), in the order a local folder's are read
    (by path, part by part; hidden and ``_`` names left out), or the one object named; and
    the names (under the prefix) of its other files, skipped."""
    found, skipped = _listed(loc, setting)
    return [(p, int(meta.get("size") or 0)) for p, meta in found], skipped


def is_left_out(parts: Sequence[str]) -> bool:
    """A hidden or ``_`` name (``_SUCCESS``, ``.crc``): a dataset's bookkeeping, not data,
    and not said (``parts``: the path under the folder, name by name)."""
    return any(part.startswith((".", "_")) for part in parts)


def skipped_note(names: Sequence[str], empty: Sequence[str] = ()) -> str:
    """The load report's note on the files of a folder or prefix that are not read: ``names``
    for their suffix, ``empty`` for holding no row (a header or schema alone, or nothing)."""
    said = []
    if names:
        said.append(f"{_files(names)} skipped (suffix not {', '.join(DATA_SUFFIXES[:-1])} or "
                    f"{DATA_SUFFIXES[-1]}): {shown_names(names)}")
    if empty:
        said.append(f"{_files(empty)} without rows skipped (empty, or a header alone): "
                    f"{shown_names(empty)}")
    return "; ".join(said)


def _files(names: Sequence[str]) -> str:
    return f"{len(names):,} file{'s' if len(names) != 1 else ''}"


def shown_names(names: Sequence[str]) -> str:
    """The first three of ``names``, then ``...`` when there are more; control characters
    escaped (a file's name in a folder: a re-trial found `\x1b[2J` printed raw)."""
    return ", ".join(printable(n, lines=False) for n in names[:3]) + (
        ", ..." if len(names) > 3 else "")


def _listed(loc: ObjectPath, setting: str
            ) -> tuple[list[tuple[ObjectPath, dict[str, Any]]], list[str]]:
    """The data objects of ``loc`` with their info, in the order of their paths, and the
    names of the other objects of a prefix (not hidden, not ``_``), skipped."""
    found = info(loc, setting)
    if found.get("type") != "directory":
        return [(loc, found)], []
    fs, path = filesystem(loc, setting)
    try:
        listed: dict[str, dict[str, Any]] = fs.find(path, detail=True)
    except Exception as exc:
        raise InputError(store_problem(loc, exc, setting, fs)) from None
    root = path.rstrip("/")
    scheme = loc.url.split("://", 1)[0]
    out, skipped = [], []
    for key, meta in listed.items():
        rel = posixpath.relpath(key, root).split("/")
        if meta.get("type", "file") != "file" or is_left_out(rel):
            continue
        if posixpath.splitext(key)[1].lower() in DATA_SUFFIXES:
            out.append((rel, loc.child(f"{scheme}://{key}"), meta))
        else:
            skipped.append(rel)
    return [(p, meta) for _, p, meta in sorted(out, key=lambda t: t[0])], \
        ["/".join(rel) for rel in sorted(skipped)]


def object_hashes(locations: dict[str, ObjectPath]) -> dict[str, str]:
    """The manifest's ``inputs`` of objects on a store (``locations``: by the setting naming
    them): each object (each data file of a prefix) by its URL, hashed by ``fingerprint``."""
    out = {}
    for setting, loc in locations.items():
        for path, meta in _listed(loc, setting)[0]:
            out[path.url] = fingerprint(path, meta, setting)
    return out


def fingerprint(loc: ObjectPath, found: dict[str, Any],
                setting: str = "data.transactions") -> str:
    """The manifest's hash of an object (``found``: its info): SHA-256 of its size and the
    store's tag of its bytes (S3's ETag, GCS's MD5), read without downloading it; of its bytes
    when the store keeps no tag. Deterministic: the same object gives the same hash."""
    tag = next((str(found[k]) for k in _TAGS if found.get(k)), None)
    digest = hashlib.sha256()
    if tag is not None:
        digest.update(f"{found.get('size')}|{tag}".encode())
        return digest.hexdigest()
    with opened(loc, setting) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def prefix_problem(loc: ObjectPath, setting: str, key: str | None = None) -> Problem:
    """A prefix where one object is read: the customers (one file on every engine; the
    transactions' prefix is read as a folder, engine.data.folder)."""
    return Problem("is a folder (a prefix), expected a CSV or Parquet file", file=loc.url,
                   key=key, hint=folder_hint(setting, loc.setting_at))


def folder_hint(setting: str, at: str) -> str:
    """The hint for a folder (local, or a prefix) where one process reads one file."""
    return f"check {setting} at {at}; " + (
        "the customers are read from one file: name it" if setting == "data.customers"
        else "name a CSV or Parquet file (data.transactions may name a folder of them)")


def empty_prefix(loc: ObjectPath, setting: str = "data.transactions") -> Problem:
    """A prefix without a data file (none, or only other files): said alike by ``cvm
    validate``, one process and ``--engine dask``."""
    return Problem("the folder (prefix) holds no data file", file=loc.url,
                   key=f"{setting} ({loc.setting_at})", hint="a Parquet dataset is a prefix "
                   "of .parquet files (CSV files work too); check the prefix")


def check_stores(config: Config) -> list[Problem]:
    """``cvm validate``: each location on a store can be reached and holds data (an object,
    or a prefix with data files); its rows are checked by ``cvm run`` as a file's are."""
    return stores_checked(config)[0]


def stores_checked(config: Config) -> tuple[list[Problem], set[str]]:
    """``check_stores``'s problems, and the settings on a store found without one
    (``transactions``, ``customers``: their objects' headers can then be read)."""
    locs = [loc for loc in (config.data.transactions, config.data.customers)
            if isinstance(loc, ObjectPath)]
    if locs and (problems := unset_problems(locs[0].options, config.display(config.file),
                                            config.positions)):
        return problems, set()  # said once for both settings, at the options' own lines
    problems, ok = [], set()
    for key in ("transactions", "customers"):
        loc = getattr(config.data, key)
        if not isinstance(loc, ObjectPath):
            continue
        before = len(problems)
        try:
            found = _listed(loc, f"data.{key}")[0]
        except InputError as exc:
            problems += exc.problems
            continue
        where = f"data.{key} ({loc.setting_at})"
        if key == "customers" and (not found or found[0][0] != loc):  # a prefix, empty or not
            problems.append(prefix_problem(loc, f"data.{key}", where))
        elif not found:
            problems.append(empty_prefix(loc, f"data.{key}"))
        empty = [path for path, meta in found if meta.get("size") == 0]
        if found and found[0][0] != loc:  # a prefix: its empty objects are skipped, or
            empty = []  # said when every one is (engine.data.preflight)
        problems += [Problem("the file is empty, expected a header line and data rows",
                             file=path.url, key=where) for path in empty]
        if len(problems) == before:
            ok.add(key)
    return problems, ok
