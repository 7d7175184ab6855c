"""``data.transactions`` and ``data.customers`` as object-storage URLs (``s3://bucket/key``),
and ``data.storage_options``: the setting's shape. The reader is ``engine.data.object_store``
(fsspec, the ``cloud`` extra).

A URL never holds credentials (it is written into the run manifest, the history and messages),
nor a query string (a pre-signed URL's signature, an Azure SAS, is one): they come
from the environment and fsspec's usual configuration (``AWS_*`` variables, profiles, an
instance role), or from ``data.storage_options``, whose text values may name environment
variables as ``${NAME}`` and must for a secret (``secret``, ``key``, ``token``, ``password``...).
The variables are read where the store is opened (on each Dask worker: its own environment).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from engine.project import checks as c
from engine.project.location import config_shown
from engine.project.yamlio import Path_

# a URL scheme; the database ones are engine.project.database_source's, file paths have none
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
DATABASE_SCHEMES = ("postgresql", "postgres", "duckdb")
ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
# The environment variables cvm.yaml may name (``${NAME}`` in storage_options, a database
# source's password_env): those made for it, whose names start with CVM_, but the engine's own
# settings. A project from someone else then cannot send any other variable of the user's (a
# GitHub token, the AWS keys) to the hosts its URLs name.
ENGINE_VARIABLES = ("CVM_HISTORY_URL", "CVM_SERVE_KEY", "CVM_DEBUG")


def variable_problem(name: str) -> tuple[str, str] | None:
    """(what is wrong, the hint) when cvm.yaml may not name the environment variable
    ``name``; None when it may."""
    if name.startswith("CVM_") and name not in ENGINE_VARIABLES:
        return None
    why = ("so that a project from someone else cannot send your other variables to the "
           "hosts its URLs name")
    if name in ENGINE_VARIABLES:
        return (f"found the environment variable {name}, expected one made for this "
                f"setting: {name} is the engine's own",
                f"name another variable: {config_shown()} reads only the CVM_ variables "
                f"made for it, {why}")
    return (f"found the environment variable {name}, expected one whose name starts with CVM_",
            f"copy it into one made for it (export CVM_{name.lstrip('_')}=\"${name}\"): "
            f"{config_shown()} reads only CVM_ variables, {why}")


# option names whose value is a credential: only ever ${NAME} in cvm.yaml
_SECRET = re.compile(r"secret|password|passwd|token|credential|sas|connection_string|"
                     r"(^|_)key$", re.IGNORECASE)


def is_object_url(text: str) -> bool:
    """``s3://...``, ``gs://...``, ``https://...``: any URL that does not name a database."""
    found = _SCHEME.match(text)
    return found is not None and found.group(1).lower() not in DATABASE_SCHEMES


@dataclass(frozen=True)
class ObjectPath:
    """An object, or a prefix of objects (a folder), on a store fsspec reads; ``url`` holds no
    credentials; ``options`` are ``data.storage_options`` as written (``${NAME}`` unread)."""

    url: str
    options: tuple[tuple[str, Any], ...] = ()
    setting_at: str = "cvm.yaml"  # where the setting naming it is, e.g. cvm.yaml:5:17

    @property
    def protocol(self) -> str:
        return self.url.split("://", 1)[0].lower()

    @property
    def name(self) -> str:
        """The last name of the URL's path (never of a query string or fragment)."""
        return posixpath.basename(urlsplit(self.url).path.rstrip("/"))

    @property
    def suffix(self) -> str:
        """As ``Path.suffix``: a Parquet object is known by its name, as a file is."""
        return posixpath.splitext(self.name)[1]

    def child(self, url: str) -> ObjectPath:
        return ObjectPath(url, self.options, self.setting_at)

    def __str__(self) -> str:
        return self.url


def url_problem(text: str) -> str | None:
    """What is wrong with an object URL (said without repeating a credential), or None."""
    parts = urlsplit(text)
    if parts.username is not None or parts.password is not None:
        return (f"found credentials in the URL, expected none: {config_shown()} is no place for "
                "them (and the URL is written into the run manifest)")
    if parts.query or text.rstrip().endswith("?"):  # the query itself is never repeated
        return QUERY_PROBLEM
    if not parts.netloc:
        return f"found {text!r}, expected a bucket or host after {parts.scheme}://"
    return None


# one rule for every store: a query string may hold a credential (S3's X-Amz-Signature, an
# Azure SAS's sig, GCS's X-Goog-Signature, or a provider's next one), so none is taken
QUERY_PROBLEM = "found a query string (?...) in the URL, expected none: a pre-signed URL's " \
    "signature is a credential, and the URL is written into the run manifest and the history"
QUERY_HINT = "name the object without ?...: credentials come from the environment (AWS_* " \
    "variables, a profile) or data.storage_options naming environment variables as ${NAME}; " \
    "download a pre-signed link's file and name it by its path"
URL_HINT = "write s3://bucket/prefix/ or s3://bucket/file.parquet; credentials come from the " \
    "environment (AWS_* variables, a profile) or data.storage_options naming environment " \
    "variables as ${NAME}"


class StorageOption(c.Kind):
    """A value of ``data.storage_options``: text, a number, true/false, or a mapping of them
    (such as s3fs's ``client_kwargs``); a credential only as ``${NAME}``."""

    expected = "text, a number, true/false, or a mapping of them"

    def __init__(self, nested: bool = True) -> None:
        self.nested = nested

    def convert(self, value: Any, ctx: c.Ctx, path: Path_) -> Any:
        name = str(path[-1]) if path else ""
        if isinstance(value, dict) and self.nested:
            return c.MapOf(c.Text(), StorageOption(nested=False)).convert(value, ctx, path)
        if isinstance(value, bool) or (isinstance(value, (int, float)) and not
                                       isinstance(value, bool)):
            return value
        if not isinstance(value, str):
            raise c.Invalid(f"found {c.describe(value)}, expected {self.expected}")
        ref = ENV_REF.match(value)
        if _SECRET.search(name) and not ref:
            raise c.Invalid(
                f"found the value of {name!r} written out, expected the name of an environment "
                "variable that holds it, as ${NAME}",
                f"a credential never goes into {config_shown()}: e.g. secret: "
                "${CVM_S3_SECRET}")
        if ref and (problem := variable_problem(ref.group(1))):
            raise c.Invalid(*problem)
        if not ref and "${" in value:  # a re-trial: 'Bearer ${CVM_TOKEN}' was sent as written
            raise c.Invalid(
                f"found {value!r}, expected ${{NAME}} as the whole value or no ${{ at all",
                "a variable is read only when it is the whole value (key: ${CVM_S3_KEY}); "
                "put the whole text in the variable (export CVM_AUTH=\"Bearer ...\")")
        return value

    def json_schema(self) -> dict[str, Any]:
        plain: dict[str, Any] = {"type": ["string", "number", "boolean"]}
        if not self.nested:
            return plain
        return {"anyOf": [plain, {"type": "object", "additionalProperties": plain}]}


STORAGE_OPTIONS = c.MapOf(c.Text(), StorageOption())


def url_hint(problem: str) -> str:
    """The hint for ``url_problem``'s ``problem``."""
    return QUERY_HINT if problem == QUERY_PROBLEM else URL_HINT


def object_path(url: str, options: dict[str, Any] | None, where: str) -> ObjectPath:
    """The checked setting as a value (hashable: a nested mapping becomes pairs)."""
    return ObjectPath(url, _frozen(options or {}), where)


def _frozen(options: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, _frozen(v) if isinstance(v, dict) else v)
                        for k, v in options.items()))
