"""The history's tables, declared once (SQLAlchemy Core); the migrations create them.

    cvm_runs       one row per recorded run: run_id (the run's input hash), as-of date,
                   engine version, input hashes (JSON), counts, when it was recorded
    cvm_run_snapshots  a run's snapshot, every customer's value (tier, stage, total value,
                   score) and decision (action, campaign, policy, channel, status, holdout,
                   cost, value at stake, expected response), as Arrow blocks sorted by
                   customer, a row per part (snapshot_blocks.py)
    cvm_imports    one row per response import: file, SHA-256, counts
    cvm_responses  one row per response: customer, campaign, date, outcome, revenue, the
                   digest of them (response_digest.py)
    cvm_run_actions one row per run: its actioned customers as one Arrow block (columnar.py)
    cvm_run_values one row per run: every customer's tier, stage, total value as one Arrow
                   block (values.py)
    cvm_events, cvm_interactions, cvm_interaction_responses   what `cvm serve` records: the
                   events posted, the actions shown or fired, the outcomes agents recorded
    cvm_live_contacts  one row per contact `cvm serve` gave (a trigger's action on a channel,
                   not withheld): what the contact policies and the value-change attributes
                   count beside the runs' contacts (engine.history.live; migration 0009)

Every name starts with ``cvm_`` so that the history can share a PostgreSQL database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from engine.history.columnar import table as _run_actions_table
from engine.history.snapshot_blocks import table as _run_snapshots_table
from engine.history.values import table as _run_values_table
from engine.project.schema import OUTCOMES

__all__ = ["OUTCOMES", "VERSION_TABLE", "events", "imports", "interaction_responses",
           "interactions", "live_contacts", "metadata", "responses", "run_actions",
           "run_snapshots", "run_values", "runs"]

VERSION_TABLE = "cvm_alembic_version"

metadata = MetaData()
# byte-wise comparison of ids on PostgreSQL (see the migration): SQLite's default already
ID = Text().with_variant(Text(collation="C"), "postgresql")

runs = Table(
    "cvm_runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("engine_version", String(64), nullable=False),
    Column("project", Text, nullable=False),
    Column("inputs", Text, nullable=False),
    Column("customers", Integer, nullable=False),
    Column("actioned", Integer, nullable=False),
    Column("allocated", Integer, nullable=False),
    # each campaign's attribution window in days, JSON (0011_windows; null before): a run is
    # measured over the windows it was made with
    Column("windows", Text),
    Index("cvm_runs_as_of", "as_of"),
)

# A snapshot row as the history recorded it before 0005_w_record13 (one SQL row per customer
# and run in cvm_snapshots): what the migrations read.
SNAPSHOT_COLUMNS = ("run", "customer_id", "value_tier", "lifecycle_stage", "total_value",
                    "value_score", "action", "campaign", "policy_id", "channel", "status",
                    "holdout", "cost", "value_at_stake", "expected_response")

run_snapshots = _run_snapshots_table(metadata)  # migration 0005_w_record13

imports = Table(
    "cvm_imports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("imported", Integer, nullable=False),
    Column("already_present", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
)

RESPONSE_COLUMNS = ("customer_id", "campaign", "response_date", "outcome", "revenue",
                    "import_id")

responses = Table(
    "cvm_responses", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, nullable=False),
    Column("campaign", Text, nullable=False),
    Column("response_date", Date, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("revenue", Float),
    Column("import_id", Integer, ForeignKey("cvm_imports.id"), nullable=False),
    # its content's digest, for the run ids (engine.history.response_digest; migration 0007)
    Column("digest", BigInteger, nullable=False),
    # what makes a response the same response: importing a file twice adds nothing
    UniqueConstraint("customer_id", "campaign", "response_date", "outcome",
                     name="cvm_responses_key"),
    Index("cvm_responses_customer", "customer_id", "response_date"),
)

run_actions = _run_actions_table(metadata)
run_values = _run_values_table(metadata)  # migration 0004_w_record

# What `cvm serve` records (migration 0003_serve): ids are the service's own (32 hex digits),
# or an event's the client gave (up to 64 characters: migration 0010_answers).
events = Table(
    "cvm_events", metadata,
    Column("id", String(64), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("type", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("attributes", Text, nullable=False),  # the event's attributes, JSON
    Column("fired", Integer, nullable=False),  # how many actions its triggers fired
    Column("answer", Text),  # the answer given, JSON: a request sent again gets it (0010)
    Index("cvm_events_customer", "customer_id", "occurred_at"),
)

interactions = Table(
    "cvm_interactions", metadata,
    Column("id", String(32), primary_key=True),
    Column("customer_id", ID, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),  # the run whose decisions were served
    Column("source", String(32), nullable=False),  # next_best_action or trigger
    Column("channel", Text),
    Column("action", Text),
    Column("policy_id", Text),
    Column("campaign", Text),
    Column("offer", Text),
    Column("service_level", Text),
    Column("event_id", String(64)),  # the event that fired it (source trigger)
    Column("trigger_id", Text),
    Column("withheld", Text),  # why a trigger's action was not given (migration 0009)
    Index("cvm_interactions_customer", "customer_id", "recorded_at"),
)

interaction_responses = Table(
    "cvm_interaction_responses", metadata,
    Column("id", String(32), primary_key=True),
    Column("interaction_id", String(32), nullable=False),
    Column("customer_id", ID, nullable=False),
    Column("outcome", String(32), nullable=False),  # accepted, declined, converted
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("note", Text),
    Index("cvm_interaction_responses_customer", "customer_id", "recorded_at"),
)

# The contacts `cvm serve` gave (migration 0009_live): appended, never changed or removed.
live_contacts = Table(
    "cvm_live_contacts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer_id", ID, nullable=False),
    Column("contact_date", Date, nullable=False),  # the UTC day it was given
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("channel", Text, nullable=False),
    Column("campaign", Text),
    Column("action", Text),
    Column("trigger_id", Text),
    Column("interaction_id", String(32), nullable=False),
    Column("run_id", String(64), nullable=False),  # the run whose decisions were served
    # its content's digest, for the run ids (engine.history.live)
    Column("digest", BigInteger, nullable=False),
    Index("cvm_live_contacts_date", "contact_date"),
    Index("cvm_live_contacts_customer", "customer_id", "contact_date"),
)
