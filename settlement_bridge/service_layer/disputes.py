"""Disputes of statement entries: raised by clients in the window, decided by admins, settled in cycles."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from service_kit.clock import Clock
from service_kit.errors import already_exists, failed_precondition, not_found
from service_kit.money import AssetScales
from settlement_bridge.domain.disputes import Dispute, DisputeState
from settlement_bridge.domain.events import EventKind
from settlement_bridge.domain.names import ConnectionName
from settlement_bridge.domain.settlement import SettlementState, SettlementStep
from settlement_bridge.service_layer.connections import connection_not_found
from settlement_bridge.service_layer.ports import VenueRefusedError, VenueUnavailableError, unavailable_error
from settlement_bridge.service_layer.unit_of_work import RequestReceipt, Transaction, UnitOfWork
from settlement_bridge.service_layer.venues import Venues

log = structlog.get_logger(__name__)

DisputeReceipt = Callable[[Dispute], RequestReceipt]
DISPUTES_LISTED_MAX = 1000


class DisputeService:
    """Creates, retracts, decides and settles disputes."""

    def __init__(
        self,
        unit_of_work: UnitOfWork,
        venues: Venues,
        clock: Clock,
        assets: AssetScales,
        dispute_window_ms: int,
    ) -> None:
        assert dispute_window_ms >= 0
        self._unit_of_work = unit_of_work
        self._venues = venues
        self._clock = clock
        self._assets = assets
        self._dispute_window_ms = dispute_window_ms

    def create(
        self,
        connection: ConnectionName,
        statement_name: str,
        asset: str,
        claimed_units: int,
        reason: str,
        receipt: DisputeReceipt | None = None,
    ) -> Dispute:
        """Holds the entry at the custodian and records the dispute OPEN.

        Refused (FAILED_PRECONDITION DISPUTE_WINDOW_CLOSED) unless the statement waits for its
        window to close; NOT_FOUND for a statement or an entry the bridge does not know.
        """
        now_ms = self._clock.now_ms()
        with self._unit_of_work.transaction() as transaction:
            if transaction.connections.get(connection) is None:
                raise connection_not_found(connection)
            stated_units = self._stated_units(transaction, connection, statement_name, asset, now_ms)
            if transaction.disputes.find(statement_name, connection, asset) is not None:
                raise already_exists(
                    "ENTRY_ALREADY_DISPUTED",
                    f"the {asset} entry of {connection.name} in {statement_name} is already disputed",
                    statement=statement_name,
                )
        try:
            self._venues.custodian.dispute_statement_entry(
                f"dispute:{statement_name}:{connection.name}:{asset}",
                statement_name,
                connection.name,
                asset,
                reason,
            )
        except VenueUnavailableError as failure:
            raise unavailable_error(failure, statement_name) from failure
        except VenueRefusedError as refusal:
            raise failed_precondition(
                refusal.reason,
                f"the custodian refused to hold the entry: {refusal.message}",
                statement=statement_name,
            ) from refusal
        with self._unit_of_work.transaction() as transaction:
            dispute = Dispute(
                number=transaction.disputes.next_number(),
                connection=connection,
                statement=statement_name,
                asset=asset,
                stated_units=stated_units,
                claimed_units=claimed_units,
                reason=reason,
                state=DisputeState.OPEN,
                create_time_ms=now_ms,
            )
            transaction.disputes.add(dispute)
            self._append_event(transaction, dispute)
            if receipt is not None:
                transaction.record_request(receipt(dispute))
        log.info("dispute_opened", dispute=dispute.name, statement=statement_name, asset=asset)
        return dispute

    def retract(
        self, connection: ConnectionName, number: int, receipt: DisputeReceipt | None = None
    ) -> Dispute:
        """The client takes the dispute back; the entry settles as stated."""
        return self._decide(connection, number, lambda dispute, now_ms: dispute.retract(now_ms), receipt)

    def resolve(
        self,
        connection: ConnectionName,
        number: int,
        approve: bool,
        decided_units: int | None,
        receipt: DisputeReceipt | None = None,
    ) -> Dispute:
        """An administrator approves (at `decided_units`, or the claimed amount) or rejects."""

        def decide(dispute: Dispute, now_ms: int) -> None:
            if approve:
                dispute.approve(dispute.claimed_units if decided_units is None else decided_units, now_ms)
            else:
                dispute.reject(now_ms)

        return self._decide(connection, number, decide, receipt)

    def now_ms(self) -> int:
        """Sandbox time now."""
        return self._clock.now_ms()

    def get(self, connection: ConnectionName, number: int) -> Dispute:
        """A dispute of a connection, or NOT_FOUND DISPUTE_NOT_FOUND."""
        with self._unit_of_work.transaction() as transaction:
            dispute = transaction.disputes.get(number)
        if dispute is None or dispute.connection != connection:
            name = f"{connection.name}/disputes/{number}"
            raise not_found("DISPUTE_NOT_FOUND", f"no dispute {name}", dispute=name)
        return dispute

    def list(self, client_id: str | None) -> list[Dispute]:
        """A client's disputes (every client's for None), newest first."""
        with self._unit_of_work.transaction() as transaction:
            return transaction.disputes.list_of_client(client_id, DISPUTES_LISTED_MAX)

    def settle_decided(self, exchange_id: str, statement_number: int) -> None:
        """Settles the disputes decided on statements before `statement_number` (a cycle's step).

        Each held entry closes at the custodian: with the difference an administrator approved
        (moved at the custodian and then at the exchange), or with nothing (its stated amount rode
        in a later statement). Every call has a request_id fixed by the dispute, so a cycle
        resumed after a crash settles each dispute once.
        """
        with self._unit_of_work.transaction() as transaction:
            decided = transaction.disputes.list_to_settle(exchange_id, statement_number)
        for dispute in decided:
            adjustment_units = dispute.adjustment_units
            connection = dispute.connection.name
            amount = self._assets.format(dispute.asset, adjustment_units)
            self._venues.custodian.resolve_disputed_entry(
                f"resolve:{dispute.name}", dispute.statement, connection, dispute.asset, amount
            )
            if adjustment_units:
                self._venues.exchange(exchange_id).apply_adjustment(
                    f"adjust:{dispute.name}", connection, dispute.asset, amount, dispute.statement
                )
            dispute.settled(self._clock.now_ms())
            with self._unit_of_work.transaction() as transaction:
                transaction.disputes.save(dispute)
                self._append_event(transaction, dispute)
            log.info("dispute_settled", dispute=dispute.name, adjustment_units=adjustment_units)

    def _decide(
        self,
        connection: ConnectionName,
        number: int,
        decide: Callable[[Dispute, int], None],
        receipt: DisputeReceipt | None,
    ) -> Dispute:
        with self._unit_of_work.transaction() as transaction:
            dispute = transaction.disputes.get(number)
            if dispute is None or dispute.connection != connection:
                name = f"{connection.name}/disputes/{number}"
                raise not_found("DISPUTE_NOT_FOUND", f"no dispute {name}", dispute=name)
            decide(dispute, self._clock.now_ms())
            transaction.disputes.save(dispute)
            self._append_event(transaction, dispute)
            if receipt is not None:
                transaction.record_request(receipt(dispute))
        return dispute

    def _stated_units(
        self,
        transaction: Transaction,
        connection: ConnectionName,
        statement_name: str,
        asset: str,
        now_ms: int,
    ) -> int:
        cycle = transaction.settlements.with_statement(statement_name)
        if cycle is None or cycle.statement is None or cycle.exchange_id != connection.exchange_id:
            raise not_found("STATEMENT_NOT_FOUND", f"{statement_name} is not a statement the bridge cut off")
        if (
            cycle.state is not SettlementState.RUNNING
            or cycle.step is not SettlementStep.EXECUTE
            or now_ms >= cycle.create_time_ms + self._dispute_window_ms
        ):
            raise failed_precondition(
                "DISPUTE_WINDOW_CLOSED",
                f"{statement_name} can no longer be disputed: its dispute window of "
                f"{self._dispute_window_ms // 1000} s after the cutoff has closed",
                statement=statement_name,
            )
        for entry in cycle.statement.content.entries:
            if entry.connection == connection.name and entry.asset == asset:
                return self._assets.parse(asset, entry.amount, "asset", allow_negative=True)
        raise not_found(
            "ENTRY_NOT_FOUND",
            f"{statement_name} has no {asset} entry for {connection.name}",
            statement=statement_name,
        )

    def _append_event(self, transaction: Transaction, dispute: Dispute) -> None:
        transaction.events.append(
            EventKind.DISPUTE,
            dispute.name,
            dispute.connection.client_name,
            {
                "statement": dispute.statement,
                "asset": dispute.asset,
                "stated": self._assets.format(dispute.asset, dispute.stated_units),
                "claimed": self._assets.format(dispute.asset, dispute.claimed_units),
                "state": dispute.state.value,
                "decided": ""
                if dispute.decided_units is None
                else self._assets.format(dispute.asset, dispute.decided_units),
                "settled": "true" if dispute.settle_time_ms is not None else "false",
            },
        )
