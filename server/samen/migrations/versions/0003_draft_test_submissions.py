"""draft test submissions

Submissions sent to a draft with its testing token (Central's
`/v1/test/{token}/…`) are test data: `submissions.draft` keeps them apart from
real data until the draft is published or deleted, which deletes them.

`make migration` regenerates 0001 from the models before the first release;
the column is then in 0001 already, so it is added only where it is missing.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "draft" in {column["name"] for column in sa.inspect(op.get_bind()).get_columns("submissions")}:
        return
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft", sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("draft")
