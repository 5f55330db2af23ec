"""Alembic environment: the engine comes from tongxin (``crm_core.db``), never an ini file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import crm_core.models  # noqa: F401  (registers every table on the metadata)
from crm_core.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine") or make_engine(
        config.get_main_option("sqlalchemy.url")
    )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things: batch mode copies the table instead.
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
