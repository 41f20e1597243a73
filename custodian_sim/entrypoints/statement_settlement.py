"""The statement settlement RPCs: execute, dispute and resolve entries, list claims."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TypeVar

import grpc
from google.protobuf.message import Message

from custodian_sim.domain.entry_outcomes import Claim, ClaimState
from custodian_sim.domain.names import ConnectionName, StatementName, parse_party_name
from custodian_sim.domain.statement_execution import check_dispute_reason
from custodian_sim.domain.statements import RecordedStatement
from custodian_sim.entrypoints import messages
from custodian_sim.entrypoints.request_runner import RequestRunner
from custodian_sim.service_layer.audit import run_recording_refusal
from custodian_sim.service_layer.services import CustodianService
from custodian_sim.service_layer.statement_settlement import EntryReference, TopUpTimers
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from oes.custodian.v1 import custodian_pb2
from service_kit.auth import PrincipalKind, current_principal, require_owner
from service_kit.errors import ServiceError, invalid_argument, permission_denied
from service_kit.idempotency import HasRequestId, validate_request_id
from service_kit.money import AssetScales
from service_kit.paging import (
    decode_page_token,
    encode_page_token,
    parse_page_size,
    query_fingerprint,
)
from service_kit.timestamps import to_timestamp

StatementResponseT = TypeVar("StatementResponseT", bound=Message)

CONNECTION_OF_OTHER_EXCHANGE = "CONNECTION_OF_OTHER_EXCHANGE"


_CLAIM_STATES = {
    ClaimState.OPEN: custodian_pb2.CLAIM_STATE_OPEN,
    ClaimState.SETTLED: custodian_pb2.CLAIM_STATE_SETTLED,
    ClaimState.SUPERSEDED: custodian_pb2.CLAIM_STATE_SUPERSEDED,
    ClaimState.NETTED: custodian_pb2.CLAIM_STATE_NETTED,
}


def claim_message(claim: Claim, assets: AssetScales) -> custodian_pb2.Claim:
    """The wire form of a claim."""
    draft = claim.draft
    return custodian_pb2.Claim(
        name=claim.name,
        creditor=draft.creditor,
        debtor=draft.debtor,
        asset=draft.asset,
        amount=assets.format(draft.asset, draft.amount_units),
        statement=draft.statement,
        connection=draft.connection.name,
        reason=draft.reason,
        create_time=to_timestamp(claim.create_time_ms),
        state=_CLAIM_STATES[claim.state],
        closed_by_statement="" if claim.closure is None else claim.closure.statement,
    )


class SettlementHandlers:
    """One method per statement settlement RPC; the custodian servicers delegate to it.

    The execution and the entry RPCs are for the bridge and admin (the settlement service's
    policy); ListClaims shows clients and exchanges only the claims they are party to.
    """

    def __init__(
        self, service: CustodianService, runner: RequestRunner, assets: AssetScales, timers: TopUpTimers
    ) -> None:
        self._service = service
        self._settlement = service.statement_settlement
        self._runner = runner
        self._assets = assets
        self._timers = timers

    def ExecuteStatement(
        self, request: custodian_pb2.ExecuteStatementRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ExecuteStatementResponse:
        validate_request_id(request.request_id)
        name = StatementName.parse(request.statement, "statement")
        return self._run_statement_request(
            "ExecuteStatement",
            request,
            custodian_pb2.ExecuteStatementResponse,
            name,
            lambda uow: self._service.execute_statement(uow, name),
        )

    def DisputeStatementEntry(
        self, request: custodian_pb2.DisputeStatementEntryRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.DisputeStatementEntryResponse:
        validate_request_id(request.request_id)
        entry = self._parse_entry(request.statement, request.connection, request.asset)
        reason = check_dispute_reason(request.reason, "reason")
        return self._run_statement_request(
            "DisputeStatementEntry",
            request,
            custodian_pb2.DisputeStatementEntryResponse,
            entry.statement,
            lambda uow: self._settlement.dispute_entry(uow, entry, reason),
        )

    def ResolveDisputedEntry(
        self, request: custodian_pb2.ResolveDisputedEntryRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ResolveDisputedEntryResponse:
        validate_request_id(request.request_id)
        entry = self._parse_entry(request.statement, request.connection, request.asset)
        if request.amount:
            entry = dataclasses.replace(
                entry,
                amount_units=self._assets.parse(
                    request.asset, request.amount, "amount", allow_negative=True, allow_zero=True
                ),
            )
        return self._run_statement_request(
            "ResolveDisputedEntry",
            request,
            custodian_pb2.ResolveDisputedEntryResponse,
            entry.statement,
            lambda uow: self._settlement.resolve_entry(uow, entry),
        )

    def ListClaims(
        self, request: custodian_pb2.ListClaimsRequest, context: grpc.ServicerContext
    ) -> custodian_pb2.ListClaimsResponse:
        party = parse_party_name(request.party, "party") if request.party else None
        page_size = parse_page_size(request.page_size)
        fingerprint = query_fingerprint("claims", party)
        after_number = decode_page_token(request.page_token, fingerprint)
        principal = current_principal()
        if party is not None:
            require_owner(principal, party)
        elif principal.kind not in (PrincipalKind.BRIDGE, PrincipalKind.ADMIN):
            raise permission_denied(
                "NOT_RESOURCE_OWNER",
                f"{principal.name} may list only the claims it is party to; set party to {principal.name}",
                principal=principal.name,
            )
        page = self._runner.read(
            lambda uow: self._settlement.list_claims(uow, party, after_number, page_size)
        )
        return custodian_pb2.ListClaimsResponse(
            claims=[claim_message(claim, self._assets) for claim in page.claims],
            next_page_token=(
                ""
                if page.next_after_number is None
                else encode_page_token(page.next_after_number, fingerprint)
            ),
        )

    def _parse_entry(self, statement: str, connection: str, asset: str) -> EntryReference:
        statement_name = StatementName.parse(statement, "statement")
        connection_name = ConnectionName.parse(connection, "connection")
        if connection_name.exchange_id != statement_name.exchange_id:
            raise invalid_argument(
                CONNECTION_OF_OTHER_EXCHANGE,
                "connection",
                f"{connection!r} is not a connection of {statement_name.exchange}, which issued {statement}",
            )
        self._assets.scale(asset, "asset")
        return EntryReference(statement_name, connection_name, asset)

    def _run_statement_request(
        self,
        method: str,
        request: HasRequestId,
        response_type: type[StatementResponseT],
        name: StatementName,
        work: Callable[[UnitOfWork], RecordedStatement],
    ) -> StatementResponseT:
        """Runs a statement mutation once per request_id, then sets the top-up deadline timer.

        A refusal rolls back and leaves its own audit record. The timer is set only after the
        commit; a retry answered from the request log sets none (the first call did, and a
        restart sets the timer of every statement still waiting).
        """
        outcomes: list[RecordedStatement] = []

        def run(uow: UnitOfWork) -> StatementResponseT:
            recorded = work(uow)
            outcomes.append(recorded)
            return response_type(statement=messages.recorded_statement_message(recorded))

        def record_refusal(uow: UnitOfWork, error: ServiceError) -> None:
            self._service.record_statement_refusal(uow, name, error.reason)

        response = run_recording_refusal(
            lambda watched: self._runner.run_request(method, request, response_type, watched),
            self._runner.write,
            run,
            record_refusal,
        )
        for recorded in outcomes:
            self._timers.schedule(recorded)
        return response
