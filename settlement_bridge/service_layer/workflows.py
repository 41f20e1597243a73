"""What the bridge's workflows share: the transfer loop (accept, drive, resume) and blocked steps."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Generic, Protocol, TypeVar

import structlog

from service_kit.clock import Clock
from service_kit.errors import ErrorCode, ServiceError, not_found
from service_kit.money import AssetScales
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.transfers import Transfer, TransferState
from settlement_bridge.service_layer.connections import connection_not_found
from settlement_bridge.service_layer.defaults import check_not_defaulted
from settlement_bridge.service_layer.locks import StripedLocks
from settlement_bridge.service_layer.ports import (
    CrashPoints,
    VenueRefusedError,
    VenueUnavailableError,
    unavailable_error,
)
from settlement_bridge.service_layer.unit_of_work import (
    RequestReceipt,
    Transaction,
    TransferRepository,
    TransferT,
    UnitOfWork,
)
from settlement_bridge.service_layer.venues import Venues

log = structlog.get_logger(__name__)

# Builds the stored response of the client request that created a transfer.
TransferReceipt = Callable[[TransferT], RequestReceipt]

TransferT_co = TypeVar("TransferT_co", bound=Transfer[Any], covariant=True)


class TransferKind(Protocol[TransferT_co]):
    """A transfer class as the workflow uses it: it names its collection and starts new transfers."""

    @property
    def collection(self) -> str:
        """The collection in resource names and lock names: `allocations` or `deallocations`."""
        ...

    def __call__(
        self, *, number: int, connection: ConnectionName, asset: str, amount_units: int, create_time_ms: int
    ) -> TransferT_co:
        """A new PENDING transfer at the first step of its kind."""
        ...


@contextmanager
def refusal_blocks(resource: str) -> Iterator[None]:
    """Around a step that cannot be undone: a venue's refusal of it blocks the workflow for an operator.

    The refusal becomes INTERNAL WORKFLOW_BLOCKED and the resource stays pending at that step.
    """
    try:
        yield
    except VenueRefusedError as refusal:
        log.error("workflow_blocked", resource=resource, venue=refusal.venue, reason=refusal.reason)
        raise ServiceError(
            ErrorCode.INTERNAL,
            "WORKFLOW_BLOCKED",
            f"{resource} stays pending: {refusal.venue} refused a step that cannot be undone "
            f"({refusal.reason}: {refusal.message})",
            metadata={"resource": resource, "venue": refusal.venue, "venue_reason": refusal.reason},
        ) from refusal


class TransferWorkflow(ABC, Generic[TransferT]):
    """Creates, drives and resumes the transfers of one kind; the kind supplies its steps.

    A transfer is persisted PENDING before the first venue call, and every step's outcome is
    committed before the next call, so a restart resumes from the last durable step.
    """

    # The transfer class this workflow creates.
    _transfer_kind: TransferKind[TransferT]
    # Names the log events and their resource key: `allocation` or `deallocation`.
    _noun: str
    # The stable reason of NOT_FOUND for an unknown number.
    _not_found_reason: str
    # The most steps one transfer of this kind ever takes, compensation included.
    _steps_max: int

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        venues: Venues,
        clock: Clock,
        locks: StripedLocks,
        crash_points: CrashPoints,
        assets: AssetScales,
        freeze_window: Callable[[str], AbstractContextManager[object]] = lambda exchange_id: nullcontext(),
    ) -> None:
        self._assets = assets
        self._freeze_window = freeze_window
        self._unit_of_work = unit_of_work
        self._venues = venues
        self._clock = clock
        self._locks = locks
        self._crash_points = crash_points

    def create(
        self,
        connection: ConnectionName,
        asset: str,
        amount_units: int,
        receipt: TransferReceipt[TransferT] | None = None,
    ) -> TransferT:
        """Accepts a transfer on an existing connection and runs its workflow to the end."""
        self._venues.exchange(connection.exchange_id)
        with self._unit_of_work.transaction() as transaction:
            if transaction.connections.get(connection) is None:
                raise connection_not_found(connection)
            check_not_defaulted(transaction, connection.exchange_id)
            repository = self._repository(transaction)
            transfer = self._transfer_kind(
                number=repository.next_number(),
                connection=connection,
                asset=asset,
                amount_units=amount_units,
                create_time_ms=self._clock.now_ms(),
            )
            repository.add(transfer)
            self._append_event(transaction, transfer)
            if receipt is not None:
                transaction.record_request(receipt(transfer))
        self._crash_points.reach(f"{self._noun}.ACCEPT.after_commit")
        log.info(
            f"{self._noun}_accepted", **{self._noun: transfer.name}, asset=asset, amount_units=amount_units
        )
        return self.drive(transfer.number)

    def get(self, connection: ConnectionName, number: int) -> TransferT:
        """Returns a transfer of a connection, or NOT_FOUND with the kind's reason."""
        with self._unit_of_work.transaction() as transaction:
            transfer = self._repository(transaction).get(number)
        if transfer is None or transfer.connection != connection:
            name = f"{connection.name}/{self._transfer_kind.collection}/{number}"
            raise not_found(self._not_found_reason, f"no {self._noun} {name}", **{self._noun: name})
        return transfer

    def list(self, connection: ConnectionName, before_number: int, limit: int) -> list[TransferT]:
        """A connection's transfers of this kind numbered below `before_number`, newest first."""
        assert limit > 0
        with self._unit_of_work.transaction() as transaction:
            if transaction.connections.get(connection) is None:
                raise connection_not_found(connection)
            return self._repository(transaction).list_of_connection(connection, before_number, limit)

    def drive(self, number: int) -> TransferT:
        """Runs the transfer's workflow from its last durable step until it ends.

        Raises UNAVAILABLE when a venue cannot be reached; the transfer then stays PENDING at
        the step that could not be taken and resumes on the next drive.
        """
        with self._locks.for_name(f"{self._transfer_kind.collection}/{number}"):
            with self._unit_of_work.transaction() as transaction:
                transfer = self._repository(transaction).get(number)
            assert transfer is not None, f"{self._noun} {number} was accepted before it is driven"
            if transfer.state is not TransferState.PENDING:
                return transfer
            with self._freeze_window(transfer.connection.exchange_id):
                return self._drive_steps(transfer)

    def _drive_steps(self, transfer: TransferT) -> TransferT:
        """Takes the transfer's steps until it ends; the transfer lock and the freeze window are held."""
        for _ in range(self._steps_max):
            if transfer.state is not TransferState.PENDING:
                return transfer
            step = transfer.step
            point = f"{self._noun}.{step.value}"
            self._crash_points.reach(f"{point}.before_call")
            try:
                self._take_step(transfer)
            except VenueUnavailableError as failure:
                raise unavailable_error(failure, transfer.name) from failure
            self._crash_points.reach(f"{point}.after_call")
            log.info(
                f"{self._noun}_step",
                **{self._noun: transfer.name},
                step=step.value,
                next_step=transfer.step.value,
                state=transfer.state.value,
                reason=transfer.reason,
            )
            with self._unit_of_work.transaction() as transaction:
                self._repository(transaction).save(transfer)
                if transfer.state is not TransferState.PENDING:
                    self._append_event(transaction, transfer)
            self._crash_points.reach(f"{point}.after_commit")
        assert transfer.state is not TransferState.PENDING, f"{transfer.name} took too many steps"
        return transfer

    def resume_pending(self) -> int:
        """Drives every unfinished transfer of this kind (after a restart); returns how many ended."""
        with self._unit_of_work.transaction() as transaction:
            pending = self._repository(transaction).list_pending()
        ended_count = 0
        for transfer in pending:
            try:
                ended = self.drive(transfer.number)
            except ServiceError as error:
                log.warning(f"{self._noun}_not_resumed", **{self._noun: transfer.name}, reason=error.reason)
                # An unreachable venue is likely to fail the transfers after this one as well; they
                # stay pending for a client's retry or the next start.
                if error.code is ErrorCode.UNAVAILABLE:
                    break
                continue
            ended_count += ended.state is not TransferState.PENDING
        return ended_count

    def _append_event(self, transaction: Transaction, transfer: TransferT) -> None:
        """Reports a transfer accepted or ended to the event feed, in the transaction that records it."""
        transaction.events.append(
            self._noun.upper(),
            transfer.name,
            transfer.connection.client_name,
            {
                "connection": transfer.connection.name,
                "asset": transfer.asset,
                "amount": self._assets.format(transfer.asset, transfer.amount_units),
                "state": transfer.state.value,
                "reason": transfer.reason,
            },
        )

    @abstractmethod
    def _repository(self, transaction: Transaction) -> TransferRepository[TransferT]:
        """The repository of this kind of transfer inside `transaction`."""

    @abstractmethod
    def _take_step(self, transfer: TransferT) -> None:
        """Makes the venue call of the transfer's current step and records its outcome on it."""


# Where a workflow can be killed around one step: before its venue call, after the call (its
# outcome not yet committed), and after the commit.
STEP_CRASH_MOMENTS = ("before_call", "after_call", "after_commit")


def crash_point_names(noun: str, steps: Iterable[enum.Enum]) -> list[str]:
    """A workflow's crash points: after its acceptance commits, and around every step but DONE."""
    return [f"{noun}.ACCEPT.after_commit"] + [
        f"{noun}.{step.value}.{moment}"
        for step in steps
        if step.value != "DONE"
        for moment in STEP_CRASH_MOMENTS
    ]
