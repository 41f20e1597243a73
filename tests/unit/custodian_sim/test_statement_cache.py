"""Parsed statements kept between units of work, and the statement message built from them."""

from __future__ import annotations

from pathlib import Path

from custodian_sim.adapters.schema import MIGRATIONS
from custodian_sim.adapters.sqlite_repositories import StatementCache
from custodian_sim.adapters.sqlite_unit_of_work import unit_of_work
from custodian_sim.domain.parties import Party, PartyKind
from custodian_sim.domain.statements import RecordedStatement, StatementState, parse_statement
from custodian_sim.entrypoints.messages import statement_message
from service_kit.database import Database
from service_kit.statement_messages import message_from_content
from tests.unit.custodian_sim.harness import ASSETS
from tests.unit.custodian_sim.statement_factory import signed, statement_content

OKX = "exchanges/okx-sim"
ACME = "clients/acme/connections/okx-sim"
BETA = "clients/beta/connections/okx-sim"


def record(
    database: Database, cache: StatementCache, entries: list[tuple[str, str, str]]
) -> RecordedStatement:
    statement = parse_statement(*signed(statement_content(OKX, 1, entries)), ASSETS)
    recorded = RecordedStatement(statement, StatementState.PENDING, (), 5)
    with unit_of_work(database, ASSETS, statement_cache=cache) as uow:
        uow.parties.add(Party(OKX, PartyKind.EXCHANGE, "OKX", 1))
        uow.statements.add(recorded)
    return recorded


def test_a_statement_is_parsed_once_and_never_served_for_other_content(tmp_path: Path) -> None:
    database = Database(tmp_path / "custodian.sqlite3", MIGRATIONS, synchronous="NORMAL")
    cache = StatementCache()
    try:
        first = record(database, cache, [(ACME, "BTC", "-0.5")])
        with unit_of_work(database, ASSETS, statement_cache=cache) as uow:
            read = uow.statements.get(first.name)
        assert read is not None and read.statement is first.statement

        # After a Reset, another writer (here: a unit of work with a cache of its own) records
        # other content under the same name.
        database.delete_everything()
        second = record(database, StatementCache(), [(BETA, "USDT", "10")])
        with unit_of_work(database, ASSETS, statement_cache=cache) as uow:
            read = uow.statements.get(second.name)

        assert read is not None and read.statement == second.statement
        assert read.statement != first.statement
    finally:
        database.close()


def test_the_statement_message_is_the_one_service_kit_builds() -> None:
    content, signature = signed(statement_content(OKX, 1, [(ACME, "BTC", "-0.5"), (BETA, "USDT", "10")]))
    assert statement_message(content, signature) == message_from_content(content, signature)
