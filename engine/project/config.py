"""The project configuration (``cvm.yaml``): schema declared once, loaded and checked in one call.

A CVM project is a folder with ``cvm.yaml``, ``rules/``, ``policies/`` and ``templates/``.
The repository root is itself a project (the bundled retail example).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import InputError, Problem
from engine.project import checks as c
from engine.project.database_source import DatabaseSource, FileOrDatabase, database_source
from engine.project.date_formats import check_format
from engine.project.delimiter import HINT as DELIMITER_HINT
from engine.project.delimiter import as_delimiter, delimiter_problem
from engine.project.encoding import HINT as ENCODING_HINT
from engine.project.encoding import encoding_problem
from engine.project.location import CONFIG_NAME, config_shown
from engine.project.model_settings import unused_models
from engine.project.number_format import NUMBER_FIELDS, Numbers, marks_clash
from engine.project.object_store import (
    STORAGE_OPTIONS,
    ObjectPath,
    is_object_url,
    object_path,
    url_hint,
    url_problem,
)
from engine.project.report_settings import NO_WINDOW_WITH_CONTRACTS, REPORT, ReportConfig
from engine.project.yamlio import format_path, load_file

# Our names for the transaction columns; required ones first.
TX_REQUIRED = ("customer_id", "date", "amount")
TX_OPTIONAL = ("cost", "margin", "quantity", "order_id", "channel", "category")
CUSTOMER_FIELDS = ("customer_id", "signup_date", "preferred_channel", "referred_by")
ATTRIBUTE_TYPES = ("number", "text", "boolean")


def _mapping_kind(names: tuple[str, ...], required: tuple[str, ...], what: str) -> c.Record:
    holds = "write the name of the column of your {} that holds {}"
    return c.Record([c.Field(n, c.Text(hint=holds.format(what, n)) if n in required else
                             c.Optional(c.Text()), c.MISSING if n in required else None,
                             doc=f"add `{n}: <the column of your {what} that holds it>`")
                     for n in names], what="a mapping from our column names to the names in "
                    "your file")


def _check_currency(value: str) -> str | None:
    """A code or sign, not a number (``currency: 123`` read as text would label every amount)."""
    if re.fullmatch(r"[\d.,\s+-]*", value):
        return f"found {value!r}, expected a currency code such as EUR or USD"
    return None


TX_COLUMNS = _mapping_kind(TX_REQUIRED + TX_OPTIONAL, TX_REQUIRED, "transactions (file or table)")
CUSTOMER_COLUMNS = _mapping_kind(CUSTOMER_FIELDS, ("customer_id",), "customers file")

DATA = c.Record([
    c.Field("transactions", FileOrDatabase(), doc="path of the transactions file (CSV or "
            "Parquet), an object-storage URL (s3://bucket/prefix/), or {url: postgresql://..., "
            "table: ...}"),
    c.Field("customers", c.Optional(c.Text()), None),
    c.Field("storage_options", STORAGE_OPTIONS, {},
            about="options of the object store's filesystem when data files are URLs (s3fs: "
            "endpoint_url, profile, anon...); a credential only as ${ENVIRONMENT_VARIABLE}"),
    c.Field("delimiter", c.Text(non_empty=False), ","),
    c.Field("customers_delimiter", c.Optional(c.Text(non_empty=False)), None,
            about="the customers file's delimiter, when it is not the transactions'"),
    c.Field("encoding", c.Text(), "utf-8"),
    c.Field("customers_encoding", c.Optional(c.Text()), None,
            about="the customers file's encoding, when it is not the transactions'"),
    *NUMBER_FIELDS,
    c.Field("date_format", c.Optional(c.Text(check_fn=check_format)), None),
    c.Field("customers_date_format", c.Optional(c.Text(check_fn=check_format)), None,
            about="the customers file's dates, when they are not written as date_format says"),
    c.Field("duplicates", c.Text(choices=("drop", "keep")), "drop"),
    c.Field("columns", TX_COLUMNS, doc="which of your columns hold customer_id, date, amount"),
    c.Field("customer_columns", c.Optional(CUSTOMER_COLUMNS), None),
    c.Field("consents", c.MapOf(c.Text(), c.Text()), {}),
    c.Field("attributes", c.MapOf(c.Text(), c.Text(choices=ATTRIBUTE_TYPES, hint=(
        "text for words and codes (a string), number for amounts and counts, boolean for "
        "yes/no and true/false"))), {}),
])

RETENTION = c.Record([
    c.Field("by", c.Text(choices=("value_band", "none")), "value_band"),
    c.Field("bands", c.Number(min=1, max=10, integer=True), 4),
    c.Field("lookback_periods", c.Number(min=1, integer=True), 4),
    c.Field("min_customers", c.Number(min=1, integer=True), 30),
])

MODELS = c.Record([
    c.Field("use", c.Text(choices=("auto", "mbgnbd", "bgnbd", "pareto_nbd", "none")), "auto"),
    c.Field("time_unit_days", c.Number(min=1, max=366), 7.0),
    c.Field("min_repeat_customers", c.Number(min=10, integer=True), 100),
    c.Field("penalizer", c.Number(min=0, max=100), 0.0),
    c.Field("holdout_days", c.Optional(c.Number(min=1, integer=True)), None),
    c.Field("interval_level", c.Number(min=0.5, max=0.999), 0.9),
    c.Field("max_holdout_error", c.Number(min=0.01, max=10), 0.5),
])

SUBSCRIPTIONS = c.Record([
    c.Field("end", c.Text(), doc="the column of the contracts file with each contract's end "
            "(empty while it runs)"),
    c.Field("billing_days", c.Number(min=1, max=366, integer=True), 30),
])

CONFIG = c.Record([
    c.Field("name", c.Text(), "CVM project"),
    c.Field("data", DATA, doc="where the transactions are and how to read them"),
    c.Field("as_of", c.Optional(c.Date()), None),
    c.Field("currency", c.Text(hint="one currency code, shown beside every amount: e.g. EUR "
                                    "or USD", check_fn=_check_currency), "EUR"),
    c.Field("period_days", c.Number(min=1, max=366, integer=True, hint=(
        "the length of one period in days: 30 for a month, 91 for a quarter, 365 for a year")),
        90),
    c.Field("horizon_periods", c.Number(min=1, max=400, integer=True), 4),
    # d = 0 with a measured r = 1: m_a r / (1 + d - r) is infinite
    c.Field("discount_rate", c.Number(
        min=0, max=1, min_exclusive=True, hint_at_min=(
            "the discounted CLV m_a r / (1 + d - r) sums every future period and has no "
            "finite value when d = 0 and a measured retention rate is 1; for almost no "
            "discounting use a small rate such as 0.01")), 0.10),
    c.Field("margin_rate", c.Number(min=0, max=1), 0.30),
    c.Field("retention", RETENTION, None),
    c.Field("models", MODELS, None),
    c.Field("subscriptions", SUBSCRIPTIONS, None),
    c.Field("report", REPORT, None),
    c.Field("output", c.Text(), "output"),
    c.Field("history", c.Optional(c.Text()), None),
], what="the project configuration")


@dataclass(frozen=True)
class DataConfig:
    # a file, an object-storage URL (engine.data.object_store), or a table or query
    # (engine.data.database)
    transactions: Path | ObjectPath | DatabaseSource
    customers: Path | ObjectPath | None
    delimiter: str
    customers_delimiter: str  # the customers file's: data.delimiter unless set apart
    encoding: str
    customers_encoding: str  # the customers file's: data.encoding unless set apart
    decimal: str  # the decimal mark of numbers written as text (CSV, Parquet text): "." or ","
    thousands: str | None  # their thousands separator, if they have one
    currency_sign: str | None  # a currency sign or code written beside the amounts
    date_format: str | None
    # the customers file's, when not date_format (a CRM export and a shop's differ; None:
    # date_format's)
    customers_date_format: str | None
    duplicates: str  # drop: exact duplicate rows are counted and skipped; keep: all are used
    columns: Mapping[str, str]  # our name -> the user's column name (only those given)
    customer_columns: Mapping[str, str]
    consents: Mapping[str, str]  # consent name -> the user's column name
    attributes: Mapping[str, str]  # extra customer attribute -> type

    @property
    def numbers(self) -> Numbers:
        """How the data files write numbers as text."""
        return Numbers(self.decimal, self.thousands, self.currency_sign)


@dataclass(frozen=True)
class RetentionConfig:
    by: str = "value_band"
    bands: int = 4
    lookback_periods: int = 4
    min_customers: int = 30


@dataclass(frozen=True)
class ModelsConfig:
    # auto: the purchase model with the smallest holdout error + Gamma-Gamma where they fit,
    # else the formulas; mbgnbd, bgnbd, pareto_nbd: that model or an error; none: the formulas
    use: str = "auto"
    time_unit_days: float = 7.0
    min_repeat_customers: int = 100
    penalizer: float = 0.0  # L2 penalty on the parameters of every fit (engine/models)
    holdout_days: int | None = None  # auto's holdout; None: the horizon (engine/model_choice)
    interval_level: float = 0.9  # of the clv_model_lower/upper interval
    max_holdout_error: float = 0.5  # auto: the formulas when its model misses the holdout more


@dataclass(frozen=True)
class SubscriptionsConfig:
    # the transactions file holds contracts (engine/data/contracts.py)
    end: str
    billing_days: int = 30


@dataclass(frozen=True)
class Config:
    """A checked ``cvm.yaml``. Paths are absolute."""

    project: Path
    file: Path
    name: str
    data: DataConfig
    as_of: dt.date | None
    currency: str
    period_days: int
    horizon_periods: int
    discount_rate: float  # per year
    margin_rate: float
    retention: RetentionConfig
    output: Path
    models: ModelsConfig = ModelsConfig()
    subscriptions: SubscriptionsConfig | None = None
    report: ReportConfig = field(default_factory=ReportConfig)
    history: str | None = None  # a database URL or SQLite path (engine.history.settings)
    # the user's project folder when ``project`` is another one (a side of `cvm plan` reads its
    # rules from a folder of its own): the history named relative to the project is still the
    # project's (engine.history.settings_for). None: ``project``.
    home: Path | None = field(default=None, compare=False)
    # line and column of each setting in the file, by dotted key ("data.delimiter")
    # (where a setting is written, not what it says: not part of equality, so a comment or a
    # moved key is no change for `cvm plan`)
    positions: Mapping[str, tuple[int | None, int | None]] = field(default_factory=dict,
                                                                   compare=False)

    def problem(self, key: str, message: str, *, hint: str | None = None) -> Problem:
        """A problem with a setting of this configuration, at its file, line and column."""
        line, column = self.positions.get(key, (None, None))
        return Problem(message, file=self.display(self.file), line=line, column=column,
                       key=key, hint=hint)

    @property
    def discount_rate_per_period(self) -> float:
        """d = (1 + annual rate) ** (period_days / 365) - 1."""
        return float((1.0 + self.discount_rate) ** (self.period_days / 365.0) - 1.0)

    def where(self, key: str) -> str:
        """``cvm.yaml:5:17``: the file, line and column of a setting (as far as known)."""
        line, column = self.positions.get(key, (None, None))
        return Problem("", file=self.display(self.file), line=line, column=column).location()

    def display(self, path: Path | ObjectPath | DatabaseSource) -> str:
        """A path as the user should see it: relative to the project when inside it."""
        if isinstance(path, DatabaseSource):
            return path.display
        if isinstance(path, ObjectPath):
            return path.url
        try:
            return str(path.relative_to(self.project))
        except ValueError:
            return str(path)


def load_config(project: Path, *, config_file: Path | None = None) -> Config:
    """Load, check and fill defaults of a project's cvm.yaml; raise InputError listing problems."""
    project = project.resolve()
    file = (config_file or project / CONFIG_NAME).resolve()
    display = _rel(file, project)
    if config_file is None and not project.is_dir():
        raise InputError(Problem("folder not found" if not project.exists() else
                                 "is not a folder", file=str(project),
                                 hint="--project takes the folder that holds cvm.yaml"))
    if not file.is_file():
        raise InputError(Problem(
            ("file not found" if config_file is not None else f"no {file.name} in this folder")
            if not file.exists() else "is not a file", file=str(file),
            hint="pass the folder that holds cvm.yaml with --project, or a configuration file "
            "with --config"))
    doc = load_file(file, display=display)
    raw: dict[str, Any] = c.check(doc, CONFIG)
    problems: list[Problem] = []
    data = raw["data"]
    for key in ("delimiter", "customers_delimiter"):
        if isinstance(data[key], str) and (message := delimiter_problem(data[key])):
            problems.append(doc.problem(("data", key), message, hint=DELIMITER_HINT))
    for key in ("encoding", "customers_encoding"):
        if isinstance(data[key], str) and (message := encoding_problem(data[key])):
            problems.append(doc.problem(("data", key), message, hint=ENCODING_HINT))
    if (clash := marks_clash(data["decimal"], data["thousands"])) is not None:
        problems.append(doc.problem(("data", "thousands"), clash[0], hint=clash[1]))
    if data["columns"].get("cost") and data["columns"].get("margin"):
        problems.append(doc.problem(("data", "columns", "margin"),
                                    "both cost and margin are mapped, expected one of them",
                                    hint="map cost (margin = amount - cost) or margin, not both"))
    cust_cols = data["customer_columns"] or {}
    if not data["customers"] and (data["consents"] or data["attributes"] or cust_cols):
        problems.append(doc.problem(("data",), "consents, attributes or customer_columns are "
                                    "set but data.customers is not",
                                    hint="name the customers file in data.customers"))
    if data["customers"] and not cust_cols:
        problems.append(doc.problem(("data", "customers"), "a customers file is set but "
                                    "data.customer_columns is not",
                                    hint="add data.customer_columns with at least customer_id"))
    problems += unused_models(doc, raw["models"] or {}, bool(raw["subscriptions"]))
    if raw["subscriptions"]:
        billing, period = raw["subscriptions"]["billing_days"], raw["period_days"]
        if billing > period:  # some periods without a payment: no one retained in formulas
            problems.append(doc.problem(
                ("subscriptions", "billing_days"), f"found {billing}, longer than period_days "
                f"({period}): a subscriber whose contract runs has periods without a payment, "
                "so the formulas' retention per period (paid in one period and again in the "
                "next) is understated (0 from twice period_days), and every formula value with "
                "it",
                hint=f"set period_days to at least the billing period (period_days: {billing})"))
        if ("report", "active_window_days") in doc.positions:  # the report counts contracts
            problems.append(doc.problem(
                ("report", "active_window_days"),
                f"not used with subscriptions ({NO_WINDOW_WITH_CONTRACTS})",
                hint=f"remove it from {config_shown()}"))
    urls = [data[k] for k in ("transactions", "customers")
            if isinstance(data[k], str) and is_object_url(data[k])]
    for key in ("transactions", "customers"):
        value = data[key]
        if value in urls and (message := url_problem(value)):
            problems.append(doc.problem(("data", key), message, hint=url_hint(message)))
    if data["storage_options"] and not urls:
        problems.append(doc.problem(
            ("data", "storage_options"), "storage_options is set but neither data.transactions "
            "nor data.customers is an object-storage URL", hint="remove storage_options, or "
            "name the files by URL (s3://bucket/...)"))
    if problems:
        raise InputError(problems)
    ret = raw["retention"] or {}
    return Config(
        project=project,
        file=file,
        name=raw["name"],
        data=DataConfig(
            transactions=database_source(data["transactions"], _where(
                display, doc.positions.get(("data", "transactions"))), project, {
                    str(k): _where(display, doc.where(("data", "transactions", k), key=True))
                    for k in data["transactions"]})
            if isinstance(data["transactions"], dict)
            else _file(data["transactions"], data["storage_options"], project,
                       _where(display, doc.positions.get(("data", "transactions")))),
            customers=_file(data["customers"], data["storage_options"], project,
                            _where(display, doc.positions.get(("data", "customers"))))
            if data["customers"] else None,
            delimiter=as_delimiter(data["delimiter"]),
            customers_delimiter=as_delimiter(data["customers_delimiter"] or data["delimiter"]),
            encoding=data["encoding"],
            customers_encoding=data["customers_encoding"] or data["encoding"],
            decimal=data["decimal"],
            thousands=data["thousands"],
            currency_sign=data["currency_sign"],
            date_format=data["date_format"],
            customers_date_format=data["customers_date_format"],
            duplicates=data["duplicates"],
            columns={k: v for k, v in data["columns"].items() if v},
            customer_columns={k: v for k, v in cust_cols.items() if v},
            consents=dict(data["consents"]),
            attributes=dict(data["attributes"]),
        ),
        as_of=raw["as_of"],
        currency=raw["currency"],
        period_days=raw["period_days"],
        horizon_periods=raw["horizon_periods"],
        discount_rate=raw["discount_rate"],
        margin_rate=raw["margin_rate"],
        retention=RetentionConfig(**ret),
        models=ModelsConfig(**(raw["models"] or {})),
        subscriptions=SubscriptionsConfig(**raw["subscriptions"]) if raw["subscriptions"]
        else None,
        report=ReportConfig(
            spend=(project / raw["report"]["spend"]).resolve()
            if raw["report"] and raw["report"]["spend"] else None,
            active_window_days=raw["report"]["active_window_days"] if raw["report"] else None),
        output=(project / raw["output"]).resolve(),
        history=raw["history"],
        positions={format_path(path): where for path, where in doc.positions.items()},
    )


def _file(text: str, options: dict[str, Any], project: Path, where: str) -> Path | ObjectPath:
    """A data file: a path relative to the project, or an object-storage URL."""
    if is_object_url(text):
        return object_path(text, options, where)
    return (project / text).resolve()


def _where(file: str, spot: tuple[int | None, int | None] | None) -> str:
    line, column = spot or (None, None)
    return Problem("", file=file, line=line, column=column).location()


def _rel(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
