"""Alembic environment: runs on the connection `Database.migrate` hands over."""

from alembic import context

from samen.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # `alembic` run by hand (e.g. autogenerate): use the URL in the config
    from sqlalchemy import create_engine

    connection = create_engine(config.get_main_option("sqlalchemy.url")).connect()

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
