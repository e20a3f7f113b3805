"""The Flink statements, rendered from ``flink_statements/`` for Confluent, in submission order.

Each carries exactly ``statement_name`` (``<env>-<id>-v<N>``), ``statement`` and ``properties``; the
provider block supplies everything else. A new version is a new resource (a new logical id), never an
in-place change: the text forces replacement and a changed name or property fails at apply.
"""

from __future__ import annotations

from cdktf import TerraformResourceLifecycle
from constructs import Construct

from salesflow.config import Environment
from salesflow.sql.render import RenderedStatement, creates_table, render_statements
from terraform.confluent_provider import FlinkStatement, meta


def statement_logical_id(statement: RenderedStatement) -> str:
    """``statement_<id>_v<version>``: a new version is a new resource, the old one is removed."""
    return f"statement_{statement.id.replace('-', '_')}_v{statement.version}"


class FlinkStatements(Construct):
    def __init__(
        self, scope: Construct, id_: str, environment: Environment, keep: TerraformResourceLifecycle | None
    ) -> None:
        super().__init__(scope, id_)
        self.rendered = render_statements(environment, "confluent")
        self.by_name: dict[str, FlinkStatement] = {}
        for statement in self.rendered:
            self.by_name[statement.name] = FlinkStatement(
                self,
                statement_logical_id(statement),
                statement_name=statement.name,
                statement=statement.text,
                properties=statement.properties,
                meta=meta(depends_on=[self.by_name[name] for name in statement.depends_on], lifecycle=keep),
            )

    def creating_table(self, table: str) -> list[FlinkStatement]:
        """The DDL statements that create ``table`` (Tableflow waits for them)."""
        return [
            self.by_name[statement.name] for statement in self.rendered if creates_table(statement, table)
        ]
