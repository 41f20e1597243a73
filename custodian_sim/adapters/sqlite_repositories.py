"""SQLite repositories of the custodian; every method runs inside the caller's transaction."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlite_utils

from custodian_sim.adapters.sqlite_settlement import read_outcomes, write_outcomes
from custodian_sim.domain.connections import Connection, ConnectionState
from custodian_sim.domain.ledger import BalanceKey, Transfer, TransferKind
from custodian_sim.domain.names import WORLD_CHAIN_ACCOUNT, WORLD_OWNER, ConnectionName, account_owner
from custodian_sim.domain.parties import ExchangeKey, Party, PartyKind, party_kind_of
from custodian_sim.domain.reserves import OwnerTotal
from custodian_sim.domain.statements import RecordedStatement, StatementState, parse_statement
from custodian_sim.service_layer.ports import Balance, PostedTransfer, TransferQuery
from service_kit.money import AssetScales
from service_kit.statement import STATEMENT_ENCODING_VERSION, StatementContent, StatementEntryContent

# SQLite allows 32,766 bound variables per statement; batches stay far below that.
ROWS_PER_QUERY_MAX = 500

ItemT = TypeVar("ItemT")


def _batches(items: Sequence[ItemT]) -> Iterator[Sequence[ItemT]]:
    for start in range(0, len(items), ROWS_PER_QUERY_MAX):
        yield items[start : start + ROWS_PER_QUERY_MAX]


class SqlitePartyRepository:
    """Parties in the `parties` table."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, name: str) -> Party | None:
        """Returns the party called `name`, if registered."""
        row = self._database.execute(
            "SELECT name, kind, display_name, create_time_ms FROM parties WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else Party(row[0], PartyKind(row[1]), row[2], row[3])

    def add(self, party: Party) -> None:
        """Registers a new party."""
        self._database.execute(
            "INSERT INTO parties (name, kind, display_name, create_time_ms) VALUES (?, ?, ?, ?)",
            (party.name, party.kind.value, party.display_name, party.create_time_ms),
        )


class SqliteExchangeKeyRepository:
    """Exchange keys in the `exchange_keys` table."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, exchange: str) -> ExchangeKey | None:
        """Returns the exchange's key, if registered."""
        row = self._database.execute(
            "SELECT exchange, public_key, register_time_ms FROM exchange_keys WHERE exchange = ?", (exchange,)
        ).fetchone()
        return None if row is None else ExchangeKey(row[0], bytes(row[1]), row[2])

    def put(self, key: ExchangeKey) -> None:
        """Registers or replaces the exchange's key."""
        self._database.execute(
            "INSERT INTO exchange_keys (exchange, public_key, register_time_ms) VALUES (?, ?, ?) "
            "ON CONFLICT (exchange) DO UPDATE SET public_key = excluded.public_key, "
            "register_time_ms = excluded.register_time_ms",
            (key.exchange, key.public_key, key.register_time_ms),
        )


def _connection_from_row(row: Sequence[Any]) -> Connection:
    return Connection(ConnectionName.parse(row[0], "connection"), ConnectionState(row[1]), row[2])


class SqliteConnectionRepository:
    """Connections in the `connections` table."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, name: ConnectionName) -> Connection | None:
        """Returns the connection, if created."""
        row = self._database.execute(
            "SELECT name, state, create_time_ms FROM connections WHERE name = ?", (name.name,)
        ).fetchone()
        return None if row is None else _connection_from_row(row)

    def get_many(self, names: Collection[ConnectionName]) -> dict[ConnectionName, Connection]:
        """Returns those of the connections that exist."""
        found: dict[ConnectionName, Connection] = {}
        for batch in _batches(sorted(name.name for name in names)):
            placeholders = ", ".join("?" for _ in batch)
            rows = self._database.execute(
                f"SELECT name, state, create_time_ms FROM connections WHERE name IN ({placeholders})", batch
            ).fetchall()
            for row in rows:
                connection = _connection_from_row(row)
                found[connection.name] = connection
        return found

    def add(self, connection: Connection) -> None:
        """Stores a new connection."""
        self._database.execute(
            "INSERT INTO connections (name, client, exchange, state, create_time_ms) VALUES (?, ?, ?, ?, ?)",
            (
                connection.name.name,
                connection.name.client,
                connection.name.exchange,
                connection.state.value,
                connection.create_time_ms,
            ),
        )

    def update(self, connection: Connection) -> None:
        """Stores an existing connection's new state."""
        cursor = self._database.execute(
            "UPDATE connections SET state = ? WHERE name = ?", (connection.state.value, connection.name.name)
        )
        assert cursor.rowcount == 1, f"{connection.name.name} was never stored"

    def list_for_party(self, party: str) -> list[Connection]:
        """Every connection of a client or to an exchange, sorted by name."""
        column = "client" if party_kind_of(party) is PartyKind.CLIENT else "exchange"
        rows = self._database.execute(
            f"SELECT name, state, create_time_ms FROM connections WHERE {column} = ? ORDER BY name", (party,)
        ).fetchall()
        return [_connection_from_row(row) for row in rows]


_TRANSFER_COLUMNS = "id, from_account, to_account, asset, amount_units, kind, reference, create_time_ms"


def _transfer_from_row(row: Sequence[Any]) -> Transfer:
    return Transfer(row[0], row[1], row[2], row[3], row[4], TransferKind(row[5]), row[6], row[7])


def _owner_accounts_condition(owner: str) -> tuple[str, list[Any]]:
    """Matches transfers from or to any account of `owner`, as index range scans.

    Every account of `clients/acme` starts with `clients/acme/`; '0' is the character after
    '/', so the range [`clients/acme/`, `clients/acme0`) holds exactly those accounts.
    """
    if owner == WORLD_OWNER:
        return "(from_account = ? OR to_account = ?)", [WORLD_CHAIN_ACCOUNT, WORLD_CHAIN_ACCOUNT]
    low, high = f"{owner}/", f"{owner}0"
    return (
        "((from_account >= ? AND from_account < ?) OR (to_account >= ? AND to_account < ?))",
        [low, high, low, high],
    )


class SqliteLedgerRepository:
    """Transfers (append-only) and balances, maintained in the same transaction."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def transfers_by_id(self, transfer_ids: Collection[str]) -> dict[str, Transfer]:
        """Returns those of the transfers that were posted."""
        found: dict[str, Transfer] = {}
        for batch in _batches(sorted(set(transfer_ids))):
            placeholders = ", ".join("?" for _ in batch)
            rows = self._database.execute(
                f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE id IN ({placeholders})", batch
            ).fetchall()
            for row in rows:
                found[row[0]] = _transfer_from_row(row)
        return found

    def balances(self, keys: Collection[BalanceKey]) -> dict[BalanceKey, int]:
        """Returns the current balances; an account that never held the asset is absent."""
        found: dict[BalanceKey, int] = {}
        for batch in _batches(sorted(set(keys))):
            pairs = ", ".join("(?, ?)" for _ in batch)
            parameters = [value for key in batch for value in key]
            # Driving the join from the keys makes SQLite look each one up by primary key; a
            # row-value IN (VALUES ...) scanned the whole table for every call.
            rows = self._database.execute(
                "SELECT balances.account, balances.asset, balances.balance_units "
                f"FROM (VALUES {pairs}) AS wanted "
                "JOIN balances ON balances.account = wanted.column1 AND balances.asset = wanted.column2",
                parameters,
            ).fetchall()
            for account, asset, balance_units in rows:
                found[(account, asset)] = balance_units
        return found

    def append(self, transfers: Sequence[Transfer], balances: Mapping[BalanceKey, int]) -> None:
        """Appends new transfers and stores the balances they lead to."""
        self._database.conn.executemany(
            f"INSERT INTO transfers ({_TRANSFER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    transfer.id,
                    transfer.from_account,
                    transfer.to_account,
                    transfer.asset,
                    transfer.amount_units,
                    transfer.kind.value,
                    transfer.reference,
                    transfer.create_time_ms,
                )
                for transfer in transfers
            ],
        )
        self._database.conn.executemany(
            "INSERT INTO balances (account, asset, owner, balance_units) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (account, asset) DO UPDATE SET balance_units = excluded.balance_units",
            [
                (account, asset, account_owner(account), balance_units)
                for (account, asset), balance_units in sorted(balances.items())
            ],
        )

    def balances_of_owner(self, owner: str) -> list[Balance]:
        """Every balance of the accounts titled to `owner`, sorted by account then asset."""
        rows = self._database.execute(
            "SELECT account, asset, balance_units FROM balances WHERE owner = ? ORDER BY account, asset",
            (owner,),
        ).fetchall()
        return [Balance(account, asset, balance_units) for account, asset, balance_units in rows]

    def list_transfers(self, query: TransferQuery, limit: int) -> list[PostedTransfer]:
        """Up to `limit` matching transfers after `query.after_sequence`, in ledger order."""
        assert limit > 0, limit
        conditions = ["sequence > ?"]
        parameters: list[Any] = [query.after_sequence]
        if query.account is not None:
            conditions.append("(from_account = ? OR to_account = ?)")
            parameters += [query.account, query.account]
        else:
            condition, values = _owner_accounts_condition(query.owner)
            conditions.append(condition)
            parameters += values
        if query.asset is not None:
            conditions.append("asset = ?")
            parameters.append(query.asset)
        if query.start_time_ms is not None:
            conditions.append("create_time_ms >= ?")
            parameters.append(query.start_time_ms)
        if query.end_time_ms is not None:
            conditions.append("create_time_ms < ?")
            parameters.append(query.end_time_ms)
        rows = self._database.execute(
            f"SELECT sequence, {_TRANSFER_COLUMNS} FROM transfers WHERE {' AND '.join(conditions)} "
            "ORDER BY sequence LIMIT ?",
            [*parameters, limit],
        ).fetchall()
        return [PostedTransfer(row[0], _transfer_from_row(row[1:])) for row in rows]

    def owner_totals(self) -> list[OwnerTotal]:
        """The sum of every owner's balances per asset (`world` included)."""
        rows = self._database.execute(
            "SELECT owner, asset, SUM(balance_units) FROM balances "
            "GROUP BY owner, asset ORDER BY owner, asset"
        ).fetchall()
        return [OwnerTotal(owner, asset, units) for owner, asset, units in rows]


def content_from_canonical(text: str) -> StatementContent:
    """Reads back the canonical JSON a statement was signed over."""
    document = json.loads(text)
    assert document["version"] == STATEMENT_ENCODING_VERSION, document["version"]
    return StatementContent(
        name=document["name"],
        exchange=document["exchange"],
        number=document["number"],
        previous_statement=document["previous_statement"],
        cutoff_time_ms=document["cutoff_time_ms"],
        first_trade_sequence=document["first_trade_sequence"],
        last_trade_sequence=document["last_trade_sequence"],
        nonce=document["nonce"],
        entries=tuple(StatementEntryContent(*entry) for entry in document["entries"]),
    )


_STATEMENT_COLUMNS = "name, content, signature, state, submit_time_ms, execute_time_ms, top_up_deadline_ms"


class SqliteStatementRepository:
    """Statements in `statements`, with their executing transfers in `statement_transfers`."""

    def __init__(self, database: sqlite_utils.Database, assets: AssetScales) -> None:
        self._database = database
        self._assets = assets

    def get(self, name: str) -> RecordedStatement | None:
        """Returns the statement recorded under `name`."""
        row = self._database.execute(
            f"SELECT {_STATEMENT_COLUMNS} FROM statements WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else self._from_row(row)

    def latest(self, exchange: str) -> RecordedStatement | None:
        """Returns the exchange's highest-numbered accepted statement."""
        row = self._database.execute(
            f"SELECT {_STATEMENT_COLUMNS} FROM statements WHERE exchange = ? AND state != ? "
            "ORDER BY number DESC LIMIT 1",
            (exchange, StatementState.REJECTED.value),
        ).fetchone()
        return None if row is None else self._from_row(row)

    def names_in_state(self, state: StatementState, after_name: str, limit: int) -> list[str]:
        """Up to `limit` names of statements in `state` after `after_name`, in name order."""
        return [
            name
            for (name,) in self._database.execute(
                "SELECT name FROM statements WHERE state = ? AND name > ? ORDER BY name LIMIT ?",
                (state.value, after_name, limit),
            ).fetchall()
        ]

    def nonce_used(self, nonce: str) -> bool:
        """Whether any recorded statement carries this nonce."""
        return (
            self._database.execute("SELECT 1 FROM statements WHERE nonce = ?", (nonce,)).fetchone()
            is not None
        )

    def add(self, recorded: RecordedStatement) -> None:
        """Records a newly verified statement."""
        content = recorded.statement.content
        self._database.execute(
            "INSERT INTO statements (name, exchange, number, content, signature, nonce, state, "
            "submit_time_ms, execute_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                content.name,
                content.exchange,
                content.number,
                content.canonical_bytes().decode(),
                recorded.statement.signature,
                content.nonce,
                recorded.state.value,
                recorded.submit_time_ms,
                recorded.execute_time_ms,
            ),
        )
        self._insert_transfer_ids(recorded, 0)

    def update(self, recorded: RecordedStatement) -> None:
        """Stores a statement's new state, transfer ids and execution time."""
        stored_count = self._database.execute(
            "SELECT count(*) FROM statement_transfers WHERE statement = ?", (recorded.name,)
        ).fetchone()[0]
        assert stored_count <= len(recorded.transfer_ids), "a statement's transfer ids only grow"
        cursor = self._database.execute(
            "UPDATE statements SET state = ?, execute_time_ms = ? WHERE name = ?",
            (recorded.state.value, recorded.execute_time_ms, recorded.name),
        )
        assert cursor.rowcount == 1, f"{recorded.name} was never recorded"
        self._insert_transfer_ids(recorded, stored_count)
        write_outcomes(self._database, recorded)

    def _insert_transfer_ids(self, recorded: RecordedStatement, first_position: int) -> None:
        self._database.conn.executemany(
            "INSERT INTO statement_transfers (statement, position, transfer_id) VALUES (?, ?, ?)",
            [
                (recorded.name, position, transfer_id)
                for position, transfer_id in enumerate(recorded.transfer_ids)
                if position >= first_position
            ],
        )

    def _from_row(self, row: Sequence[Any]) -> RecordedStatement:
        name, content_text, signature, state, submit_time_ms, execute_time_ms, top_up_deadline_ms = row
        transfer_ids = tuple(
            transfer_id
            for (transfer_id,) in self._database.execute(
                "SELECT transfer_id FROM statement_transfers WHERE statement = ? ORDER BY position", (name,)
            ).fetchall()
        )
        statement = parse_statement(content_from_canonical(content_text), bytes(signature), self._assets)
        return RecordedStatement(
            statement,
            StatementState(state),
            transfer_ids,
            submit_time_ms,
            execute_time_ms,
            read_outcomes(self._database, statement),
            top_up_deadline_ms,
        )
