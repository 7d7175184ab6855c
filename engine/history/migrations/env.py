"""Alembic's environment for the history: always given an open connection by
``engine.history.store`` (never reads alembic.ini or a URL)."""

from __future__ import annotations

from alembic import context

from engine.history.tables import VERSION_TABLE, metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  version_table=VERSION_TABLE, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
