"""SQLite repositories of the custodian; every method runs inside the caller's transaction."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import sqlite_utils

from custodian_sim.adapters.sqlite_settlement import (
    read_outcomes,
    read_transfer_ids,
    write_outcomes,
    write_transfer_ids,
)
from custodian_sim.domain.connections import Connection, ConnectionState
from custodian_sim.domain.ledger import BalanceKey, Transfer, TransferKind
from custodian_sim.domain.names import WORLD_CHAIN_ACCOUNT, WORLD_OWNER, ConnectionName, account_owner
from custodian_sim.domain.parties import ExchangeKey, Party, PartyKind, party_kind_of
from custodian_sim.domain.reserves import OwnerTotal
from custodian_sim.domain.statements import (
    RecordedStatement,
    SignedStatement,
    StatementState,
    parse_statement,
)
from custodian_sim.service_layer.ports import Balance, PostedTransfer, TransferQuery
from service_kit.money import AssetScales
from service_kit.statement import STATEMENT_ENCODING_VERSION, StatementContent, StatementEntryContent

# SQLite allows 32,766 bound variables per statement; batches stay far below that.
ROWS_PER_QUERY_MAX = 500
# Parsed statements kept in memory per process (about 12 MB for 20,000 entries): an exchange
# has one in flight at a time, and it is read again until it executes.
STATEMENTS_CACHED_MAX = 4

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
        # The names come back as asked for, so they are not parsed again.
        by_text = {name.name: name for name in names}
        found: dict[ConnectionName, Connection] = {}
        for batch in _batches(sorted(by_text)):
            placeholders = ", ".join("?" for _ in batch)
            rows = self._database.execute(
                f"SELECT name, state, create_time_ms FROM connections WHERE name IN ({placeholders})", batch
            ).fetchall()
            for text, state, create_time_ms in rows:
                name = by_text[text]
                found[name] = Connection(name, ConnectionState(state), create_time_ms)
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
        # Every balance read or written in this unit of work, which holds the write lock and is
        # the only writer of `balances`, and the keys read that have no balance: a statement
        # execution reads its 20,000 balances to plan and again to post.
        self._known_balances: dict[BalanceKey, int] = {}
        self._absent_balances: set[BalanceKey] = set()

    def transfers_by_id(self, transfer_ids: Collection[str]) -> dict[str, Transfer]:
        """Returns those of the transfers that were posted."""
        found: dict[str, Transfer] = {}
        ordered = sorted(set(transfer_ids))
        if len(ordered) > ROWS_PER_QUERY_MAX and not self._any_id_between(ordered[0], ordered[-1]):
            # A statement's 20,000 transfer ids are looked up before it executes, when none of
            # them exists: one range scan of the id index tells so at once.
            return found
        for batch in _batches(ordered):
            placeholders = ", ".join("?" for _ in batch)
            rows = self._database.execute(
                f"SELECT {_TRANSFER_COLUMNS} FROM transfers WHERE id IN ({placeholders})", batch
            ).fetchall()
            for row in rows:
                found[row[0]] = _transfer_from_row(row)
        return found

    def _any_id_between(self, lowest: str, highest: str) -> bool:
        row = self._database.execute(
            "SELECT EXISTS (SELECT 1 FROM transfers WHERE id BETWEEN ? AND ?)", (lowest, highest)
        ).fetchone()
        return bool(row[0])

    def balances(self, keys: Collection[BalanceKey]) -> dict[BalanceKey, int]:
        """Returns the current balances; an account that never held the asset is absent."""
        known = self._known_balances
        absent = self._absent_balances
        wanted = set(keys)
        found = {key: units for key in wanted if (units := known.get(key)) is not None}
        if len(found) == len(wanted):
            return found
        unknown = sorted(wanted - found.keys() - absent)
        for batch in _batches(unknown):
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
                key = (account, asset)
                found[key] = known[key] = balance_units
        if len(found) < len(wanted):
            absent.update(key for key in unknown if key not in found)
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
        # A balance read in this unit of work is known to exist and is updated in place (cheaper
        # than an upsert, and without working out its owner again); any other is upserted.
        known = self._known_balances
        updated: list[tuple[int, str, str]] = []
        upserted: list[tuple[str, str, str, int]] = []
        for (account, asset), balance_units in sorted(balances.items()):
            if (account, asset) in known:
                updated.append((balance_units, account, asset))
            else:
                upserted.append((account, asset, account_owner(account), balance_units))
        if updated:
            self._database.conn.executemany(
                "UPDATE balances SET balance_units = ? WHERE account = ? AND asset = ?", updated
            )
        if upserted:
            self._database.conn.executemany(
                "INSERT INTO balances (account, asset, owner, balance_units) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (account, asset) DO UPDATE SET balance_units = excluded.balance_units",
                upserted,
            )
        known.update(balances)
        self._absent_balances.difference_update(balances)

    def balances_of_owner(self, owner: str) -> list[Balance]:
        """Every balance of the accounts titled to `owner`, sorted by account then asset."""
        rows = self._database.execute(
            "SELECT account, asset, balance_units FROM balances WHERE owner = ? ORDER BY account, asset",
            (owner,),
        ).fetchall()
        return [Balance(account, asset, balance_units) for account, asset, balance_units in rows]

    def allocated_to(self, exchange_id: str) -> list[Balance]:
        """The `allocated` balance of every connection to the exchange, sorted by account then asset."""
        suffix = f"/connections/{exchange_id}/allocated"
        rows = self._database.execute(
            "SELECT account, asset, balance_units FROM balances "
            "WHERE owner LIKE 'clients/%' AND substr(account, -length(?)) = ? ORDER BY account, asset",
            (suffix, suffix),
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


class StatementCache:
    """Statements parsed from their stored content, shared by the units of work of one process.

    One process has one set of asset scales, which parsing depends on.

    Parsing the content of 20,000 entries costs more than executing them, and a recorded
    statement's content never changes (a trigger refuses it). A Reset may record other content
    under the same name, so a parsed statement is used only for exactly the content and
    signature it was parsed from; what a rolled-back transaction cached is therefore harmless.
    """

    def __init__(self, size_max: int = STATEMENTS_CACHED_MAX) -> None:
        assert size_max > 0, size_max
        self._size_max = size_max
        self._lock = threading.Lock()
        # name -> (canonical content, signature, parsed statement), least recently used first.
        self._statements: OrderedDict[str, tuple[str, bytes, SignedStatement]] = OrderedDict()

    def get(self, name: str, content_text: str, signature: bytes) -> SignedStatement | None:
        """The statement parsed from this content and signature, if still cached."""
        with self._lock:
            cached = self._statements.get(name)
            if cached is None or cached[0] != content_text or cached[1] != signature:
                return None
            self._statements.move_to_end(name)
            return cached[2]

    def put(self, content_text: str, statement: SignedStatement) -> None:
        """Remembers a statement parsed from (or recorded as) `content_text`."""
        with self._lock:
            self._statements[statement.name] = (content_text, statement.signature, statement)
            self._statements.move_to_end(statement.name)
            while len(self._statements) > self._size_max:
                self._statements.popitem(last=False)


_STATEMENT_COLUMNS = (
    "statements.name, statement_contents.content, signature, state, submit_time_ms, execute_time_ms, "
    "top_up_deadline_ms"
)
_STATEMENTS_WITH_CONTENT = (
    "statements JOIN statement_contents ON statement_contents.statement = statements.name"
)


class SqliteStatementRepository:
    """Statements in `statements`; their content, transfer ids and entry outcomes in tables of their own."""

    def __init__(self, database: sqlite_utils.Database, assets: AssetScales, cache: StatementCache) -> None:
        self._database = database
        self._assets = assets
        self._cache = cache

    def get(self, name: str) -> RecordedStatement | None:
        """Returns the statement recorded under `name`."""
        row = self._database.execute(
            f"SELECT {_STATEMENT_COLUMNS} FROM {_STATEMENTS_WITH_CONTENT} WHERE statements.name = ?", (name,)
        ).fetchone()
        return None if row is None else self._from_row(row)

    def latest(self, exchange: str) -> RecordedStatement | None:
        """Returns the exchange's highest-numbered accepted statement."""
        row = self._database.execute(
            f"SELECT {_STATEMENT_COLUMNS} FROM {_STATEMENTS_WITH_CONTENT} WHERE exchange = ? AND state != ? "
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
        content_text = content.canonical_bytes().decode()
        self._cache.put(content_text, recorded.statement)
        self._database.execute(
            "INSERT INTO statement_contents (statement, content) VALUES (?, ?)", (content.name, content_text)
        )
        self._database.execute(
            "INSERT INTO statements (name, exchange, number, signature, nonce, state, "
            "submit_time_ms, execute_time_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                content.name,
                content.exchange,
                content.number,
                recorded.statement.signature,
                content.nonce,
                recorded.state.value,
                recorded.submit_time_ms,
                recorded.execute_time_ms,
            ),
        )
        write_transfer_ids(self._database, recorded)
        write_outcomes(self._database, recorded)

    def update(self, recorded: RecordedStatement) -> None:
        """Stores a statement's new state, times, entry outcomes and transfer ids."""
        cursor = self._database.execute(
            "UPDATE statements SET state = ?, execute_time_ms = ?, top_up_deadline_ms = ? WHERE name = ?",
            (recorded.state.value, recorded.execute_time_ms, recorded.top_up_deadline_ms, recorded.name),
        )
        assert cursor.rowcount == 1, f"{recorded.name} was never recorded"
        write_transfer_ids(self._database, recorded)
        write_outcomes(self._database, recorded)

    def _from_row(self, row: Sequence[Any]) -> RecordedStatement:
        name, content_text, signature, state, submit_time_ms, execute_time_ms, top_up_deadline_ms = row
        statement = self._cache.get(name, content_text, bytes(signature))
        if statement is None:
            statement = parse_statement(content_from_canonical(content_text), bytes(signature), self._assets)
            self._cache.put(content_text, statement)
        return RecordedStatement(
            statement,
            StatementState(state),
            read_transfer_ids(self._database, name),
            submit_time_ms,
            execute_time_ms,
            read_outcomes(self._database, statement),
            top_up_deadline_ms,
        )
