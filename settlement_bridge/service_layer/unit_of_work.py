"""The unit of work and repositories the workflows persist through: one transaction per step."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from google.protobuf.message import Message

from service_kit.commit_signal import CommitSignal
from service_kit.idempotency import HasRequestId
from settlement_bridge.domain.defaults import DefaultOutcome, ExchangeDefault
from settlement_bridge.domain.disputes import Dispute
from settlement_bridge.domain.events import BridgeEvent
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.settlement import SettlementCycle
from settlement_bridge.domain.transfers import Allocation, Connection, Deallocation, Transfer

# One kind of transfer: Allocation or Deallocation.
TransferT = TypeVar("TransferT", bound=Transfer[Any])


@dataclass(frozen=True)
class RequestReceipt:
    """A client request and the response to store for it, recorded with the resource it created.

    Recording it in the same transaction that creates the resource makes a retry with the same
    request_id find that resource, however many commits its workflow takes afterwards.
    """

    method: str
    request: HasRequestId
    response: Message


class RequestAlreadyRecordedError(Exception):
    """Another call with the same request_id recorded its resource first (a concurrent duplicate)."""


class ConnectionRepository(Protocol):
    """Connections known to the bridge."""

    def get(self, connection: ConnectionName) -> Connection | None:
        """Returns the connection, or None."""
        ...

    def add(self, connection: Connection) -> None:
        """Records a new connection."""
        ...

    def list_of_client(self, client_id: str | None) -> list[Connection]:
        """Connections of one client (every client's for None), sorted by name."""
        ...

    def list_of_exchange(self, exchange_id: str) -> list[Connection]:
        """Returns every connection to one exchange, sorted by name."""
        ...

    def mark_defaulted(self, connection: ConnectionName, outcome: DefaultOutcome) -> None:
        """Records the connection DEFAULTED with what its exchange's default did to it."""
        ...


class ExchangeDefaultRepository(Protocol):
    """Exchanges declared in default, from detection until the procedure completed."""

    def get(self, exchange_id: str) -> ExchangeDefault | None:
        """Returns the exchange's default, or None while it has not defaulted."""
        ...

    def add(self, exchange_default: ExchangeDefault) -> None:
        """Records a default just detected (not yet complete)."""
        ...

    def complete(self, exchange_id: str, complete_time_ms: int) -> None:
        """Records the default's procedure complete."""
        ...


class TransferRepository(Protocol[TransferT]):
    """Transfers of one kind (allocations or deallocations) and their workflow state."""

    def next_number(self) -> int:
        """Returns the number the next transfer of this kind gets."""
        ...

    def add(self, transfer: TransferT) -> None:
        """Records a new transfer."""
        ...

    def save(self, transfer: TransferT) -> None:
        """Records the transfer's new state and step."""
        ...

    def get(self, number: int) -> TransferT | None:
        """Returns the transfer, or None."""
        ...

    def list_of_connection(
        self, connection: ConnectionName, before_number: int, limit: int
    ) -> list[TransferT]:
        """A connection's transfers numbered below `before_number`, newest first."""
        ...

    def list_pending(self) -> list[TransferT]:
        """Returns every transfer whose workflow has not ended, oldest first."""
        ...


class SettlementRepository(Protocol):
    """Settlement cycles and their workflow state."""

    def next_number(self) -> int:
        """Returns the number the next cycle gets."""
        ...

    def add(self, cycle: SettlementCycle) -> None:
        """Records a new cycle."""
        ...

    def save(self, cycle: SettlementCycle) -> None:
        """Records the cycle's new state, step, statement and breaks."""
        ...

    def get(self, number: int) -> SettlementCycle | None:
        """Returns the cycle, or None."""
        ...

    def list_running(self, exchange_id: str | None = None) -> list[SettlementCycle]:
        """Returns every running cycle (of one exchange, when given), oldest first."""
        ...

    def last_succeeded(self, exchange_id: str) -> SettlementCycle | None:
        """Returns the exchange's most recent cycle that succeeded, or None."""
        ...

    def with_statement(self, statement_name: str) -> SettlementCycle | None:
        """The cycle that cut off the named statement, if any."""
        ...

    def list_newest(self, limit: int) -> list[SettlementCycle]:
        """Returns at most `limit` cycles, newest first."""
        ...


class ExchangeKeyRepository(Protocol):
    """Each exchange's statement public key, recorded the first time the bridge saw it."""

    def get(self, exchange_id: str) -> bytes | None:
        """Returns the recorded key, or None."""
        ...

    def add(self, exchange_id: str, public_key: bytes, record_time_ms: int) -> None:
        """Records the key of an exchange seen for the first time."""
        ...


class EventLog(Protocol):
    """The event journal inside a transaction: an event commits with the change it reports."""

    def append(self, kind: str, subject: str, client: str, attributes: Mapping[str, str]) -> None:
        """Appends one event (see settlement_bridge.domain.events.EventKind)."""
        ...

    def exists(self, kind: str, subject: str) -> bool:
        """Whether an event of that kind about that subject was appended already."""
        ...


class DisputeRepository(Protocol):
    """Disputes of statement entries."""

    def next_number(self) -> int:
        """The number the next dispute gets."""
        ...

    def add(self, dispute: Dispute) -> None:
        """Records a new dispute."""
        ...

    def save(self, dispute: Dispute) -> None:
        """Records a dispute's new state."""
        ...

    def get(self, number: int) -> Dispute | None:
        """A dispute by number."""
        ...

    def find(self, statement: str, connection: ConnectionName, asset: str) -> Dispute | None:
        """The dispute of one statement entry, if any."""
        ...

    def list_of_client(self, client_id: str | None, limit: int) -> list[Dispute]:
        """A client's disputes (every client's for None), newest first."""
        ...

    def list_to_settle(self, exchange_id: str, before_statement_number: int) -> list[Dispute]:
        """Decided, unsettled disputes of the exchange's statements numbered below the given one."""
        ...


class Transaction(Protocol):
    """The repositories inside one transaction."""

    @property
    def connections(self) -> ConnectionRepository:
        """Connections."""
        ...

    @property
    def allocations(self) -> TransferRepository[Allocation]:
        """Allocations."""
        ...

    @property
    def deallocations(self) -> TransferRepository[Deallocation]:
        """Deallocations."""
        ...

    @property
    def settlements(self) -> SettlementRepository:
        """Settlement cycles."""
        ...

    @property
    def exchange_keys(self) -> ExchangeKeyRepository:
        """Exchange statement keys."""
        ...

    @property
    def disputes(self) -> DisputeRepository:
        """Disputes."""
        ...

    @property
    def events(self) -> EventLog:
        """The event journal."""
        ...

    @property
    def exchange_defaults(self) -> ExchangeDefaultRepository:
        """Exchange defaults."""
        ...

    def record_request(self, receipt: RequestReceipt) -> None:
        """Stores the response of a client request; raises RequestAlreadyRecordedError on a duplicate."""
        ...


class UnitOfWork(Protocol):
    """Opens transactions: everything done in one commits together or not at all."""

    def transaction(self) -> AbstractContextManager[Transaction]:
        """Begins a transaction; it commits when the block ends and rolls back on an exception."""
        ...

    # The event journal is read outside transactions: streams read a page, then wait for the
    # commit signal.

    @property
    def commit_signal(self) -> CommitSignal:
        """Wakes event streams after a commit appended events."""
        ...

    def read_events(self, after_sequence: int, limit: int, client: str | None = None) -> list[BridgeEvent]:
        """Up to `limit` events after `after_sequence`, only `client`'s when given."""
        ...
