"""Ports the use cases need: repositories over stored state and the statement signature verifier."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.connections import Connection
from custodian_sim.domain.ledger import BalanceKey, Transfer
from custodian_sim.domain.names import ConnectionName
from custodian_sim.domain.parties import ExchangeKey, Party
from custodian_sim.domain.reserves import OwnerTotal
from custodian_sim.domain.statements import RecordedStatement, StatementState
from service_kit.statement import StatementContent


@dataclass(frozen=True)
class Balance:
    """One account's balance in one asset."""

    account: str
    asset: str
    balance_units: int


@dataclass(frozen=True)
class PostedTransfer:
    """A transfer and its position in the ledger (from 1; later transfers have larger numbers)."""

    sequence: int
    transfer: Transfer


@dataclass(frozen=True)
class TransferQuery:
    """Which transfers to list: those touching `owner`'s accounts, narrowed by the optional filters."""

    owner: str
    # One account of the owner, or None for all of them.
    account: str | None
    asset: str | None
    # create_time_ms >= start_time_ms and < end_time_ms, each bound optional.
    start_time_ms: int | None
    end_time_ms: int | None
    # Only transfers with a larger sequence: where the previous page ended.
    after_sequence: int


class PartyRepository(Protocol):
    """Registered clients and exchanges."""

    def get(self, name: str) -> Party | None:
        """Returns the party called `name`, if registered."""
        ...

    def add(self, party: Party) -> None:
        """Registers a new party."""
        ...


class ExchangeKeyRepository(Protocol):
    """Each exchange's statement key."""

    def get(self, exchange: str) -> ExchangeKey | None:
        """Returns the exchange's key, if registered."""
        ...

    def put(self, key: ExchangeKey) -> None:
        """Registers or replaces the exchange's key."""
        ...


class ConnectionRepository(Protocol):
    """Connections between clients and exchanges."""

    def get(self, name: ConnectionName) -> Connection | None:
        """Returns the connection, if created."""
        ...

    def get_many(self, names: Collection[ConnectionName]) -> dict[ConnectionName, Connection]:
        """Returns those of the connections that exist."""
        ...

    def add(self, connection: Connection) -> None:
        """Stores a new connection."""
        ...

    def update(self, connection: Connection) -> None:
        """Stores an existing connection's new state."""
        ...

    def list_for_party(self, party: str) -> list[Connection]:
        """Every connection of a client (`clients/{c}`) or to an exchange (`exchanges/{x}`), by name."""
        ...


class LedgerRepository(Protocol):
    """Append-only transfers and the balances they maintain."""

    def transfers_by_id(self, transfer_ids: Collection[str]) -> dict[str, Transfer]:
        """Returns those of the transfers that were posted."""
        ...

    def balances(self, keys: Collection[BalanceKey]) -> dict[BalanceKey, int]:
        """Returns the current balances; an account that never held the asset is absent."""
        ...

    def append(self, transfers: Sequence[Transfer], balances: Mapping[BalanceKey, int]) -> None:
        """Appends new transfers and stores the balances they lead to, in the caller's unit of work."""
        ...

    def balances_of_owner(self, owner: str) -> list[Balance]:
        """Every balance of the accounts titled to `owner`, sorted by account then asset."""
        ...

    def allocated_to(self, exchange_id: str) -> list[Balance]:
        """The `allocated` balance of every connection to the exchange, sorted by account then asset."""
        ...

    def list_transfers(self, query: TransferQuery, limit: int) -> list[PostedTransfer]:
        """Up to `limit` matching transfers after `query.after_sequence`, in ledger order."""
        ...

    def owner_totals(self) -> list[OwnerTotal]:
        """The sum of every owner's balances per asset (`world` included)."""
        ...


class StatementRepository(Protocol):
    """Verified statements."""

    def get(self, name: str) -> RecordedStatement | None:
        """Returns the statement recorded under `name`."""
        ...

    def latest(self, exchange: str) -> RecordedStatement | None:
        """Returns the exchange's highest-numbered accepted statement."""
        ...

    def names_in_state(self, state: StatementState, after_name: str, limit: int) -> list[str]:
        """Up to `limit` names of statements in `state` after `after_name`, in name order."""
        ...

    def nonce_used(self, nonce: str) -> bool:
        """Whether any recorded statement carries this nonce."""
        ...

    def add(self, recorded: RecordedStatement) -> None:
        """Records a newly verified statement."""
        ...

    def update(self, recorded: RecordedStatement) -> None:
        """Stores a statement's new state, transfer ids and times; its signed content never changes."""
        ...


class AuditRepository(Protocol):
    """The append-only audit log."""

    def append(self, record: AuditRecord) -> None:
        """Appends a record (its sequence unassigned); the log gives it the next sequence."""
        ...

    def list_after(self, after_sequence: int, limit: int, owner: str | None) -> list[AuditRecord]:
        """Up to `limit` records after `after_sequence`, oldest first; only `owner`'s unless None."""
        ...


class SignatureVerifier(Protocol):
    """Checks an exchange's Ed25519 signature over a statement's canonical bytes."""

    def verify(self, public_key: bytes, content: StatementContent, signature: bytes) -> bool:
        """Returns whether `signature` is the holder of `public_key` signing `content`."""
        ...
