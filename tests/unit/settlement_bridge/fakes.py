"""In-memory fakes of the bridge's venue ports: a custodian ledger and an exchange with mirrors."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from service_kit.money import AssetScales
from service_kit.signing import private_key_from_seed, public_key_bytes, sign
from service_kit.statement import StatementContent, StatementEntryContent
from service_kit.statement_messages import message_from_content
from settlement_bridge.domain.names import parse_connection_name
from settlement_bridge.domain.settlement import IssuedStatement
from settlement_bridge.service_layer.ports import (
    CustodyBalance,
    MirrorBalance,
    StatementExecution,
    VenueIdentity,
    VenueRefusedError,
    VenueUnavailableError,
)

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
BTC = 100_000_000
USDT = 1_000_000


class Faults:
    """Failures to inject into the next calls of named methods, each consumed once."""

    def __init__(self) -> None:
        self._pending: dict[str, list[Exception]] = defaultdict(list)

    def add(self, method: str, error: Exception, times: int = 1) -> None:
        """Makes the next `times` calls of `method` raise `error`."""
        self._pending[method].extend([error] * times)

    def check(self, method: str) -> None:
        """Raises the next injected failure of `method`, if any."""
        if self._pending[method]:
            raise self._pending[method].pop(0)


def refused(venue: str, reason: str, code: str = "FAILED_PRECONDITION") -> VenueRefusedError:
    """A definite refusal with a stable reason."""
    return VenueRefusedError(venue, code, reason, f"{reason} (injected)")


def unavailable(venue: str) -> VenueUnavailableError:
    """A venue that could not be reached."""
    return VenueUnavailableError(venue, "injected outage")


class FakeCustodian:
    """A double-entry ledger with locks by allocation id, unlocks by unlock id and statement execution."""

    venue = "custodian"

    def __init__(self) -> None:
        self.balances: dict[tuple[str, str], int] = defaultdict(int)
        self.calls: list[str] = []
        self.faults = Faults()
        self.connections: set[tuple[str, str]] = set()
        # Connection names the bridge has activated; only these accept locks, as at the custodian.
        self.active_connections: set[str] = set()
        # Each lock's allocation id -> (connection, asset, amount, state), as the custodian records it.
        self.allocations: dict[str, tuple[str, str, int, str]] = {}
        self._rejections: dict[str, str] = {}
        self._unlocks: set[str] = set()
        self.submitted: dict[str, IssuedStatement] = {}
        self.executed: list[str] = []
        self.executions: dict[str, StatementExecution] = {}
        # Request ids of every execute call, in order, and the answer stored under each (as the
        # custodian's request log does: a known request_id gets its first answer again).
        self.execute_request_ids: list[str] = []
        self._execute_answers: dict[str, StatementExecution] = {}

    def deposit(self, account: str, asset: str, amount_units: int) -> None:
        """Books a deposit from the outside world."""
        self._move("world/chain", account, asset, amount_units)

    def create_connection(self, request_id: str, client_name: str, exchange_name: str) -> None:
        self._enter("create_connection")
        self.connections.add((client_name, exchange_name))

    def activate_connection(self, request_id: str, connection: str) -> None:
        self._enter("activate_connection")
        name = parse_connection_name(connection, "connection")
        assert (name.client_name, name.exchange_name) in self.connections, f"{connection} was never created"
        self.active_connections.add(connection)

    def lock_allocation(
        self, request_id: str, connection: str, allocation_id: str, asset: str, amount_units: int
    ) -> None:
        self._enter("lock_allocation")
        if allocation_id in self.allocations:
            # One allocation id, one outcome: a rejected lock is refused again with its reason.
            if allocation_id in self._rejections:
                raise refused(self.venue, self._rejections[allocation_id])
            return
        client = parse_connection_name(connection, "connection").client_name
        reason = ""
        if connection not in self.active_connections:
            reason = "CONNECTION_NOT_ACTIVE"
        elif self.balances[(f"{client}/available", asset)] < amount_units:
            reason = "INSUFFICIENT_BALANCE"
        if reason:
            self.allocations[allocation_id] = (connection, asset, amount_units, "REJECTED")
            self._rejections[allocation_id] = reason
            raise refused(self.venue, reason)
        self.allocations[allocation_id] = (connection, asset, amount_units, "RESERVED")
        self._move(f"{client}/available", f"{connection}/allocated", asset, amount_units)

    def clear_allocation(self, request_id: str, connection: str, allocation_id: str) -> None:
        self._enter("clear_allocation")
        recorded_connection, asset, amount_units, state = self.allocations[allocation_id]
        assert recorded_connection == connection
        if state not in ("RESERVED", "CLEARED"):
            raise refused(self.venue, f"ALLOCATION_{state}")
        self.allocations[allocation_id] = (connection, asset, amount_units, "CLEARED")

    def release_allocation(self, request_id: str, connection: str, allocation_id: str, reason: str) -> None:
        self._enter("release_allocation")
        assert reason, "a release always says why"
        recorded_connection, asset, amount_units, state = self.allocations[allocation_id]
        assert recorded_connection == connection
        if state == "RELEASED":
            return
        if state != "RESERVED":
            raise refused(self.venue, f"ALLOCATION_{state}")
        client = parse_connection_name(connection, "connection").client_name
        self.allocations[allocation_id] = (connection, asset, amount_units, "RELEASED")
        self._move(f"{connection}/allocated", f"{client}/available", asset, amount_units)

    def unlock_allocation(
        self, request_id: str, connection: str, unlock_id: str, asset: str, amount_units: int
    ) -> None:
        self._enter("unlock_allocation")
        if unlock_id in self._unlocks:
            return
        if self.balances[(f"{connection}/allocated", asset)] < amount_units:
            raise refused(self.venue, "INSUFFICIENT_ALLOCATION")
        client = parse_connection_name(connection, "connection").client_name
        self._unlocks.add(unlock_id)
        self._move(f"{connection}/allocated", f"{client}/available", asset, amount_units)

    def submit_statement(self, request_id: str, statement: IssuedStatement) -> None:
        self._enter("submit_statement")
        self.submitted[statement.name] = statement

    def execute_statement(self, request_id: str, statement_name: str) -> StatementExecution:
        self._enter("execute_statement")
        self.execute_request_ids.append(request_id)
        if request_id not in self._execute_answers:
            self._execute_answers[request_id] = self._execute(statement_name)
        return self._execute_answers[request_id]

    def _execute(self, statement_name: str) -> StatementExecution:
        """As the custodian: a loss beyond its allocation fails alone; unpaid gains wait for a top-up."""
        if statement_name in self.executed:
            return self.executions[statement_name]
        statement = self.submitted[statement_name]
        settlement_account = f"{statement.content.exchange}/settlement"
        settled: list[StatementEntryContent] = []
        funds = {asset: self.balances[(settlement_account, asset)] for asset in ASSETS.scales}
        gains = []
        for entry in statement.content.entries:
            units = ASSETS.parse(entry.asset, entry.amount, allow_negative=True)
            if units > 0:
                gains.append((entry, units))
            elif self.balances[(f"{entry.connection}/allocated", entry.asset)] >= -units:
                settled.append(entry)
                funds[entry.asset] -= units
        needed: dict[str, int] = defaultdict(int)
        for entry, units in gains:
            needed[entry.asset] += units
        if any(units > funds[asset] for asset, units in needed.items()):
            execution = StatementExecution(awaiting_top_up=True)
            self.executions[statement_name] = execution
            return execution
        settled += [entry for entry, _ in gains]
        for entry in settled:
            units = ASSETS.parse(entry.asset, entry.amount, allow_negative=True)
            allocated_account = f"{entry.connection}/allocated"
            if units < 0:
                self._move(allocated_account, settlement_account, entry.asset, -units)
            else:
                self._move(settlement_account, allocated_account, entry.asset, units)
        every_entry = len(settled) == len(statement.content.entries)
        execution = StatementExecution(settled_entries=None if every_entry else tuple(settled))
        self.executions[statement_name] = execution
        self.executed.append(statement_name)
        return execution

    def get_statement_execution(self, statement_name: str) -> StatementExecution:
        self._enter("get_statement_execution")
        return self.executions[statement_name]

    def list_balances(self, owner: str) -> list[CustodyBalance]:
        self._enter("list_balances")
        return [
            CustodyBalance(account, asset, units)
            for (account, asset), units in sorted(self.balances.items())
            if account.startswith(f"{owner}/")
        ]

    def list_allocated_to(self, exchange_name: str) -> list[CustodyBalance]:
        self._enter("list_allocated_to")
        exchange_id = exchange_name.removeprefix("exchanges/")
        return [
            CustodyBalance(account, asset, units)
            for (account, asset), units in sorted(self.balances.items())
            if account.startswith("clients/") and account.endswith(f"/connections/{exchange_id}/allocated")
        ]

    def count(self, method: str) -> int:
        """How many times `method` was called."""
        return self.calls.count(method)

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        self.faults.check(method)

    def _move(self, from_account: str, to_account: str, asset: str, amount_units: int) -> None:
        assert amount_units > 0
        self.balances[(from_account, asset)] -= amount_units
        self.balances[(to_account, asset)] += amount_units


@dataclass
class _Book:
    mirror_units: int = 0
    unsettled_units: int = 0
    held_units: int = 0


@dataclass
class _Statement:
    issued: IssuedStatement
    confirmed: bool = False
    request_ids: list[str] = field(default_factory=list)
    void_reason: str = ""


class FakeExchange:
    """An exchange's OES books: reservations, mirrors, unsettled trades and signed statements."""

    def __init__(self, exchange_id: str = "okx-sim", key_seed: bytes = b"k" * 32) -> None:
        self.exchange_id = exchange_id
        self.venue = f"exchanges/{exchange_id}"
        self.private_key = private_key_from_seed(key_seed)
        self.calls: list[str] = []
        self.faults = Faults()
        self.books: dict[tuple[str, str], _Book] = defaultdict(_Book)
        self.connections: set[str] = set()
        self.reservations: dict[str, tuple[str, str, int, str]] = {}
        self.holds: dict[str, tuple[str, str, int, str]] = {}
        self.statements: list[_Statement] = []
        # The entries each confirmation re-based.
        self.confirmed_entries: dict[str, tuple[StatementEntryContent, ...]] = {}
        self.trade_sequence = 0
        self.now_ms = 1_767_225_600_000
        # When set, statements are signed with this key instead of the venue's own.
        self.forging_key_seed: bytes | None = None

    def trade(self, connection: str, deltas: dict[str, int]) -> None:
        """Books one trade's effect on a connection's unsettled balances."""
        self.trade_sequence += 1
        for asset, units in deltas.items():
            self.books[(connection, asset)].unsettled_units += units

    def create_connection(self, request_id: str, connection: str) -> None:
        self._enter("create_connection")
        self.connections.add(connection)

    def reserve_allocation(
        self, request_id: str, connection: str, allocation_id: str, asset: str, amount_units: int
    ) -> None:
        self._enter("reserve_allocation")
        self.reservations.setdefault(allocation_id, (connection, asset, amount_units, "RESERVED"))

    def clear_allocation(self, request_id: str, allocation_id: str) -> None:
        self._enter("clear_allocation")
        connection, asset, amount_units, state = self.reservations[allocation_id]
        if state == "RESERVED":
            self.books[(connection, asset)].mirror_units += amount_units
            self.reservations[allocation_id] = (connection, asset, amount_units, "CLEARED")

    def release_allocation(self, request_id: str, allocation_id: str) -> None:
        self._enter("release_allocation")
        connection, asset, amount_units, state = self.reservations.get(allocation_id, ("", "", 0, "RELEASED"))
        assert state != "CLEARED", "the bridge never releases a cleared allocation"
        self.reservations[allocation_id] = (connection, asset, amount_units, "RELEASED")

    def reserve_deallocation(
        self, request_id: str, connection: str, deallocation_id: str, asset: str, amount_units: int
    ) -> None:
        self._enter("reserve_deallocation")
        if deallocation_id in self.holds:
            return
        book = self.books[(connection, asset)]
        if book.mirror_units + book.unsettled_units - book.held_units < amount_units:
            raise refused(self.venue, "INSUFFICIENT_AVAILABLE_CREDIT")
        book.held_units += amount_units
        self.holds[deallocation_id] = (connection, asset, amount_units, "HELD")

    def clear_deallocation(self, request_id: str, deallocation_id: str) -> None:
        self._enter("clear_deallocation")
        connection, asset, amount_units, state = self.holds[deallocation_id]
        if state == "HELD":
            book = self.books[(connection, asset)]
            book.held_units -= amount_units
            book.mirror_units -= amount_units
            self.holds[deallocation_id] = (connection, asset, amount_units, "CLEARED")

    def release_deallocation(self, request_id: str, deallocation_id: str) -> None:
        self._enter("release_deallocation")
        connection, asset, amount_units, state = self.holds[deallocation_id]
        if state == "HELD":
            self.books[(connection, asset)].held_units -= amount_units
            self.holds[deallocation_id] = (connection, asset, amount_units, "RELEASED")

    def create_statement(self, request_id: str) -> IssuedStatement:
        self._enter("create_statement")
        for recorded in self.statements:
            if request_id in recorded.request_ids:
                return recorded.issued
        if self.statements and not (self.statements[-1].confirmed or self.statements[-1].void_reason):
            raise refused(self.venue, "STATEMENT_IN_FLIGHT")
        standing = [recorded for recorded in self.statements if not recorded.void_reason]
        previous = standing[-1].issued.content if standing else None
        number = len(self.statements) + 1
        name = f"{self.venue}/statements/{number}"
        entries = tuple(
            StatementEntryContent(connection, asset, ASSETS.format(asset, book.unsettled_units))
            for (connection, asset), book in sorted(self.books.items())
            if book.unsettled_units != 0
        )
        first = previous.last_trade_sequence + 1 if previous else 1
        content = StatementContent(
            name=name,
            exchange=self.venue,
            number=number,
            previous_statement=previous.name if previous else "",
            cutoff_time_ms=self.now_ms,
            first_trade_sequence=first,
            last_trade_sequence=self.trade_sequence,
            nonce=hashlib.sha256(name.encode()).hexdigest()[:32],
            entries=entries,
        )
        key = private_key_from_seed(self.forging_key_seed) if self.forging_key_seed else self.private_key
        signature = sign(key, content)
        encoded = message_from_content(content, signature).SerializeToString(deterministic=True)
        issued = IssuedStatement(content, signature, encoded)
        self.statements.append(_Statement(issued, request_ids=[request_id]))
        return issued

    def confirm_statement(
        self,
        request_id: str,
        statement_name: str,
        settled_entries: Sequence[StatementEntryContent] | None = None,
    ) -> None:
        self._enter("confirm_statement")
        recorded = next(s for s in self.statements if s.issued.name == statement_name)
        if recorded.confirmed:
            return
        entries = recorded.issued.content.entries
        rebased = entries if settled_entries is None else tuple(settled_entries)
        assert set(rebased) <= set(entries), "settled entries are entries of the statement"
        self.confirmed_entries[statement_name] = tuple(rebased)
        for entry in rebased:
            units = ASSETS.parse(entry.asset, entry.amount, allow_negative=True)
            book = self.books[(entry.connection, entry.asset)]
            book.mirror_units += units
            book.unsettled_units -= units
        recorded.confirmed = True

    def void_statement(self, request_id: str, statement_name: str, reason: str) -> None:
        self._enter("void_statement")
        recorded = next(s for s in self.statements if s.issued.name == statement_name)
        if recorded.confirmed:
            raise refused(self.venue, "STATEMENT_ALREADY_CONFIRMED")
        recorded.void_reason = recorded.void_reason or reason

    def get_venue(self) -> VenueIdentity:
        self._enter("get_venue")
        return VenueIdentity(self.venue, public_key_bytes(self.private_key))

    def list_mirrors(self) -> list[MirrorBalance]:
        self._enter("list_mirrors")
        return [
            MirrorBalance(connection, asset, book.mirror_units)
            for (connection, asset), book in sorted(self.books.items())
        ]

    def count(self, method: str) -> int:
        """How many times `method` was called."""
        return self.calls.count(method)

    def _enter(self, method: str) -> None:
        self.calls.append(method)
        self.faults.check(method)
