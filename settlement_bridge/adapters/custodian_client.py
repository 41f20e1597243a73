"""The custodian port over gRPC (oes.custodian.v1), authenticated as the bridge."""

from __future__ import annotations

import grpc

from oes.common.v1 import statement_pb2
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.money import AssetScales
from service_kit.statement import StatementEntryContent
from settlement_bridge.adapters.venue_calls import VenueCaller, reconcilable_units
from settlement_bridge.domain.settlement import EntryResult, IssuedStatement
from settlement_bridge.service_layer.ports import (
    CustodyBalance,
    DefaultRelease,
    StatementExecution,
    VenueRefusedError,
)

CUSTODIAN_VENUE = "custodian"


def allocation_name(connection: str, allocation_id: str) -> str:
    """The custodian's resource name of an allocation of a connection."""
    return f"{connection}/allocations/{allocation_id}"


class GrpcCustodian:
    """Calls the custodian's settlement and custody services."""

    def __init__(self, channel: grpc.Channel, assets: AssetScales, caller: VenueCaller | None = None) -> None:
        self._settlement = custodian_pb2_grpc.CustodySettlementServiceStub(channel)
        self._custody = custodian_pb2_grpc.CustodyServiceStub(channel)
        self._assets = assets
        self._caller = caller or VenueCaller(CUSTODIAN_VENUE)

    def create_connection(self, request_id: str, client_name: str, exchange_name: str) -> None:
        self._caller.call(
            self._settlement.CreateConnection,
            custodian_pb2.CreateConnectionRequest(
                request_id=request_id, client=client_name, exchange=exchange_name
            ),
        )

    def activate_connection(self, request_id: str, connection: str) -> None:
        self._caller.call(
            self._settlement.ActivateConnection,
            custodian_pb2.ActivateConnectionRequest(request_id=request_id, name=connection),
        )

    def lock_allocation(
        self, request_id: str, connection: str, allocation_id: str, asset: str, amount_units: int
    ) -> None:
        self._caller.call(
            self._settlement.LockAllocation,
            custodian_pb2.LockAllocationRequest(
                request_id=request_id,
                connection=connection,
                allocation_id=allocation_id,
                asset=asset,
                amount=self._assets.format(asset, amount_units),
            ),
        )

    def unlock_allocation(
        self, request_id: str, connection: str, unlock_id: str, asset: str, amount_units: int
    ) -> None:
        self._caller.call(
            self._settlement.UnlockAllocation,
            custodian_pb2.UnlockAllocationRequest(
                request_id=request_id,
                connection=connection,
                unlock_id=unlock_id,
                asset=asset,
                amount=self._assets.format(asset, amount_units),
            ),
        )

    def clear_allocation(self, request_id: str, connection: str, allocation_id: str) -> None:
        self._caller.call(
            self._settlement.ClearAllocation,
            custodian_pb2.ClearAllocationRequest(
                request_id=request_id, allocation=allocation_name(connection, allocation_id)
            ),
        )

    def release_allocation(self, request_id: str, connection: str, allocation_id: str, reason: str) -> None:
        self._caller.call(
            self._settlement.ReleaseAllocation,
            custodian_pb2.ReleaseAllocationRequest(
                request_id=request_id, allocation=allocation_name(connection, allocation_id), reason=reason
            ),
        )

    def submit_statement(self, request_id: str, statement: IssuedStatement) -> None:
        response: custodian_pb2.SubmitStatementResponse = self._caller.call(
            self._settlement.SubmitStatement,
            custodian_pb2.SubmitStatementRequest(
                request_id=request_id,
                statement=statement_pb2.SettlementStatement.FromString(statement.encoded),
            ),
        )
        if response.statement.state == custodian_pb2.STATEMENT_STATE_REJECTED:
            raise VenueRefusedError(
                CUSTODIAN_VENUE, "FAILED_PRECONDITION", "STATEMENT_REJECTED", f"{statement.name} was rejected"
            )

    def execute_statement(self, request_id: str, statement_name: str) -> StatementExecution:
        response: custodian_pb2.ExecuteStatementResponse = self._caller.call(
            self._settlement.ExecuteStatement,
            custodian_pb2.ExecuteStatementRequest(request_id=request_id, statement=statement_name),
        )
        return _execution(response.statement, statement_name)

    def dispute_statement_entry(
        self, request_id: str, statement_name: str, connection: str, asset: str, reason: str
    ) -> None:
        self._caller.call(
            self._settlement.DisputeStatementEntry,
            custodian_pb2.DisputeStatementEntryRequest(
                request_id=request_id,
                statement=statement_name,
                connection=connection,
                asset=asset,
                reason=reason,
            ),
        )

    def resolve_disputed_entry(
        self, request_id: str, statement_name: str, connection: str, asset: str, amount: str
    ) -> None:
        self._caller.call(
            self._settlement.ResolveDisputedEntry,
            custodian_pb2.ResolveDisputedEntryRequest(
                request_id=request_id,
                statement=statement_name,
                connection=connection,
                asset=asset,
                amount=amount,
            ),
        )

    def get_statement_execution(self, statement_name: str) -> StatementExecution:
        response: custodian_pb2.GetStatementResponse = self._caller.call(
            self._settlement.GetStatement, custodian_pb2.GetStatementRequest(name=statement_name)
        )
        return _execution(response.statement, statement_name)

    def list_balances(self, owner: str) -> list[CustodyBalance]:
        return self._balances(custodian_pb2.ListBalancesRequest(owner=owner))

    def list_allocated_to(self, exchange_name: str) -> list[CustodyBalance]:
        return self._balances(custodian_pb2.ListBalancesRequest(allocated_to=exchange_name))

    def _balances(self, request: custodian_pb2.ListBalancesRequest) -> list[CustodyBalance]:
        response: custodian_pb2.ListBalancesResponse = self._caller.call(self._custody.ListBalances, request)
        balances = []
        for balance in response.balances:
            units = reconcilable_units(self._assets, balance.asset, balance.amount, "amount")
            if units is not None:
                balances.append(CustodyBalance(balance.account, balance.asset, units))
        return balances

    def release_on_default(
        self, request_id: str, exchange_name: str, apply_last_statement: bool
    ) -> DefaultRelease:
        response: custodian_pb2.ReleaseOnDefaultResponse = self._caller.call(
            self._settlement.ReleaseOnDefault,
            custodian_pb2.ReleaseOnDefaultRequest(
                request_id=request_id, exchange=exchange_name, apply_last_statement=apply_last_statement
            ),
        )
        recorded = response.exchange_default
        returned: dict[tuple[str, str], int] = {}
        for claim in recorded.claims:
            if claim.kind != custodian_pb2.DEFAULT_CLAIM_KIND_RELEASED_ALLOCATION:
                continue
            units = reconcilable_units(self._assets, claim.asset, claim.amount, "amount")
            if units is not None:
                returned[(claim.party, claim.asset)] = returned.get((claim.party, claim.asset), 0) + units
        settled: dict[tuple[str, str], int] = {}
        if recorded.last_statement_applied:
            # Which entries settled is recorded on the statement, not in the default's record.
            statement: custodian_pb2.GetStatementResponse = self._caller.call(
                self._settlement.GetStatement,
                custodian_pb2.GetStatementRequest(name=recorded.last_statement),
            )
            for outcome in statement.statement.entry_outcomes:
                if outcome.state != custodian_pb2.ENTRY_STATE_SETTLED:
                    continue
                units = reconcilable_units(self._assets, outcome.asset, outcome.amount, "amount")
                if units is not None:
                    settled[(outcome.connection, outcome.asset)] = units
        return DefaultRelease(
            last_statement=recorded.last_statement,
            last_statement_applied=recorded.last_statement_applied,
            last_statement_reason=recorded.last_statement_reason,
            returned_units=returned,
            statement_settled_units=settled,
        )


# Executed with only some entries settled (possibly none): the exchange re-bases only those.
_PARTLY_EXECUTED_STATES = (
    custodian_pb2.STATEMENT_STATE_PARTIALLY_SUCCEEDED,
    custodian_pb2.STATEMENT_STATE_FAILED,
    custodian_pb2.STATEMENT_STATE_DISPUTED,
)


def _execution(recorded: custodian_pb2.RecordedStatement, statement_name: str) -> StatementExecution:
    """What a recorded statement's state means to the cycle; a statement not executed is a refusal."""
    results = tuple(
        EntryResult(
            outcome.connection,
            outcome.asset,
            custodian_pb2.EntryState.Name(outcome.state).removeprefix("ENTRY_STATE_"),
            outcome.reason,
        )
        for outcome in recorded.entry_outcomes
    )
    if recorded.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED:
        return StatementExecution(entry_results=results)
    if recorded.state == custodian_pb2.STATEMENT_STATE_AWAITING_TOP_UP:
        return StatementExecution(awaiting_top_up=True)
    if recorded.state in _PARTLY_EXECUTED_STATES:
        return StatementExecution(
            settled_entries=tuple(
                StatementEntryContent(outcome.connection, outcome.asset, outcome.amount)
                for outcome in recorded.entry_outcomes
                if outcome.state == custodian_pb2.ENTRY_STATE_SETTLED
            ),
            entry_results=results,
        )
    state = custodian_pb2.StatementState.Name(recorded.state)
    raise VenueRefusedError(
        CUSTODIAN_VENUE, "FAILED_PRECONDITION", "STATEMENT_NOT_EXECUTED", f"{statement_name} is {state}"
    )
