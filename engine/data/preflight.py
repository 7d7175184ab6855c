"""``cvm validate``: the data files named in cvm.yaml, looked at without reading their rows, so
that a project validate calls valid does not stop ``cvm run`` at a missing file, an empty one,
a header without a mapped column or a folder without data. A store's locations are checked by
``object_store.check_stores`` (reached, not empty), then their objects' headers here as a
file's; a database by ``database.check_source``. The values of a local file's first rows:
``engine.value.first_rows``; every value is checked by the commands that read the rows (and
``cvm validate --audience``)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from engine.data.header import NoRows, Source, preflight
from engine.errors import InputError, Problem
from engine.project.config import Config, DataConfig
from engine.project.object_store import ObjectPath


def transaction_columns(config: Config) -> dict[str, str]:
    """The transactions' columns read (our name -> the user's): a contract's end too."""
    subs = config.subscriptions
    return {**config.data.columns, "end": subs.end} if subs else dict(config.data.columns)


def customer_columns(data: DataConfig) -> dict[str, str]:
    """The customers file's columns read (our name -> the user's): the mapped columns, the
    consents (``consent:NAME``) and the attributes (``attr:NAME``)."""
    wanted = dict(data.customer_columns)
    wanted.update({f"consent:{k}": v for k, v in data.consents.items()})
    wanted.update({f"attr:{k}": k for k in data.attributes})
    return wanted


def check_files(config: Config, *, stores: Collection[str] = ()) -> list[Problem]:
    """The local files, and the objects on a store of the settings in ``stores``
    (``transactions``, ``customers``: their locations checked by
    ``object_store.stores_checked`` without a problem)."""
    data = config.data
    problems: list[Problem] = []
    for key, wanted in (("transactions", transaction_columns(config)),
                        ("customers", customer_columns(data))):
        path = getattr(data, key)
        if not isinstance(path, Path | ObjectPath) or (isinstance(path, ObjectPath)
                                                       and key not in stores):
            continue  # none, a database, or a store not reached
        src = Source(path, config.display(path), f"data.{key}", data.customers_delimiter
                     if key == "customers" else data.delimiter,
                     data.customers_encoding if key == "customers" else data.encoding,
                     config.where(f"data.{key}"), numbers=data.numbers)
        try:
            if key == "transactions" and _is_folder(src):
                problems += _folder(src, wanted)
            else:
                preflight(src, wanted)
        except InputError as exc:
            problems += exc.problems
    return problems


def _is_folder(src: Source) -> bool:
    if isinstance(src.path, Path):
        return src.path.is_dir()
    from engine.data.object_store import info

    return bool(info(src.path, src.setting).get("type") == "directory")


def _folder(src: Source, wanted: dict[str, str]) -> list[Problem]:
    """Each file of a folder or prefix read as the transactions (one process and ``--engine
    dask`` read the same files); an empty folder is refused as the readers refuse it."""
    from engine.data.folder import no_data_file, no_rows_at_all, parts  # (pyarrow)

    files = parts(src)[0]
    if not files:
        return [no_data_file(src)]
    problems: list[Problem] = []
    empty = []  # files without rows: skipped by the readers, unless every file is
    for name, part in files:
        try:
            preflight(part, wanted)
        except NoRows:
            empty.append(name)
        except InputError as exc:
            if isinstance(part.path, ObjectPath) and _empty_object(part):
                empty.append(name)  # (a Parquet object of 0 bytes: no footer to read)
            else:
                problems += exc.problems
    return [no_rows_at_all(src, empty)] if len(empty) == len(files) else problems


def _empty_object(part: Source) -> bool:
    from engine.data.object_store import info

    assert isinstance(part.path, ObjectPath)
    return info(part.path, part.setting).get("size") == 0
