"""Statement settlement over a real custodian server (port 0, sim clock, SQLite): top-up, disputes, claims."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from custodian_sim.bootstrap import build
from oes.control.v1 import control_pb2
from oes.custodian.v1 import custodian_pb2
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind
from service_kit.clock import SimulatedClock
from service_kit.config import start_service
from service_kit.statement_messages import message_from_content
from service_kit.timestamps import from_timestamp
from tests.integration.custodian_sim.test_custodian_server import Custodian, refused
from tests.integration.support import START_MS, bearer, service_config
from tests.unit.custodian_sim.statement_factory import exchange_public_key, signed, statement_content

OKX = "exchanges/okx-sim"
ACME = "clients/acme/connections/okx-sim"
BETA = "clients/beta/connections/okx-sim"
STATEMENT = f"{OKX}/statements/1"
ACME_PRINCIPAL = Principal(PrincipalKind.CLIENT, "acme")
BETA_PRINCIPAL = Principal(PrincipalKind.CLIENT, "beta")
OKX_PRINCIPAL = Principal(PrincipalKind.EXCHANGE, "okx-sim")
# The custodian's default top-up window.
TOP_UP_WINDOW_MS = 60 * 60_000
ENTRY = custodian_pb2.EntryState


def start(data_dir: Path) -> Custodian:
    return Custodian(start_service(service_config(data_dir), build, SimulatedClock(START_MS)), data_dir)


@pytest.fixture()
def custodian(tmp_path: Path) -> Iterator[Custodian]:
    running = start(tmp_path)
    create_world(running)
    yield running
    running.stop()


def create_world(custodian: Custodian) -> None:
    """Allocated: acme 2 BTC and 100,000 USDT, beta 1 BTC; the exchange's account holds 10 BTC, 1,000 USDT."""
    admin = bearer(ADMIN)
    for name, kind in (
        ("clients/acme", custodian_pb2.PARTY_KIND_CLIENT),
        ("clients/beta", custodian_pb2.PARTY_KIND_CLIENT),
        (OKX, custodian_pb2.PARTY_KIND_EXCHANGE),
    ):
        custodian.admin.CreateParty(
            custodian_pb2.CreatePartyRequest(
                request_id=f"party-{name}", party=custodian_pb2.Party(name=name, kind=kind, display_name=name)
            ),
            metadata=admin,
        )
    custodian.admin.RegisterExchangeKey(
        custodian_pb2.RegisterExchangeKeyRequest(
            request_id="key", exchange=OKX, public_key=exchange_public_key(OKX)
        ),
        metadata=admin,
    )
    for request_id, owner, asset, amount in (
        ("acme-btc", "clients/acme", "BTC", "10"),
        ("acme-usdt", "clients/acme", "USDT", "500000"),
        ("beta-btc", "clients/beta", "BTC", "5"),
        ("okx-btc", OKX, "BTC", "10"),
        ("okx-usdt", OKX, "USDT", "1000"),
    ):
        deposit(custodian, request_id, owner, asset, amount)
    bridge = bearer(BRIDGE)
    for client, connection in (("clients/acme", ACME), ("clients/beta", BETA)):
        custodian.settlement.CreateConnection(
            custodian_pb2.CreateConnectionRequest(
                request_id=f"connect-{client}", client=client, exchange=OKX
            ),
            metadata=bridge,
        )
        custodian.settlement.ActivateConnection(
            custodian_pb2.ActivateConnectionRequest(request_id=f"activate-{client}", name=connection),
            metadata=bridge,
        )
    for connection, allocation_id, asset, amount in (
        (ACME, "acme-btc", "BTC", "2"),
        (ACME, "acme-usdt", "USDT", "100000"),
        (BETA, "beta-btc", "BTC", "1"),
    ):
        custodian.settlement.LockAllocation(
            custodian_pb2.LockAllocationRequest(
                request_id=f"lock-{allocation_id}",
                connection=connection,
                allocation_id=allocation_id,
                asset=asset,
                amount=amount,
            ),
            metadata=bridge,
        )


def deposit(custodian: Custodian, request_id: str, owner: str, asset: str, amount: str) -> None:
    custodian.admin.SimulateDeposit(
        custodian_pb2.SimulateDepositRequest(request_id=request_id, owner=owner, asset=asset, amount=amount),
        metadata=bearer(ADMIN),
    )


def submit(custodian: Custodian, entries: list[tuple[str, str, str]]) -> custodian_pb2.RecordedStatement:
    content = statement_content(OKX, 1, entries)
    response = custodian.settlement.SubmitStatement(
        custodian_pb2.SubmitStatementRequest(
            request_id="submit-1", statement=message_from_content(*signed(content))
        ),
        metadata=bearer(BRIDGE),
    )
    return response.statement


def execute(custodian: Custodian, request_id: str) -> custodian_pb2.RecordedStatement:
    return custodian.settlement.ExecuteStatement(
        custodian_pb2.ExecuteStatementRequest(request_id=request_id, statement=STATEMENT),
        metadata=bearer(BRIDGE),
    ).statement


def get_statement(custodian: Custodian) -> custodian_pb2.RecordedStatement:
    return custodian.settlement.GetStatement(
        custodian_pb2.GetStatementRequest(name=STATEMENT), metadata=bearer(ADMIN)
    ).statement


def outcomes(statement: custodian_pb2.RecordedStatement) -> list[tuple[str, str, str, int, str, str]]:
    return [
        (entry.connection, entry.asset, entry.amount, entry.state, entry.reason, entry.transfer_id)
        for entry in statement.entry_outcomes
    ]


def claims(custodian: Custodian, party: str, principal: Principal = ADMIN) -> list[custodian_pb2.Claim]:
    return list(
        custodian.custody.ListClaims(
            custodian_pb2.ListClaimsRequest(party=party), metadata=bearer(principal)
        ).claims
    )


def balance(custodian: Custodian, owner: str, account: str, asset: str) -> str:
    return custodian.balances(owner)[(account, asset)]


def advance(custodian: Custodian, request_id: str, duration_ms: int) -> None:
    request = control_pb2.AdvanceClockRequest(request_id=request_id)
    request.duration.FromMilliseconds(duration_ms)
    custodian.control.AdvanceClock(request, metadata=bearer(ADMIN))


def test_a_loss_beyond_one_clients_allocation_settles_every_other_client_and_fails_only_that_entry(
    custodian: Custodian,
) -> None:
    # beta lost 1.5 BTC with 1 BTC allocated; acme bought 1 BTC for 60,120 USDT.
    submitted = submit(
        custodian,
        [(ACME, "BTC", "1.00000000"), (ACME, "USDT", "-60120.000000"), (BETA, "BTC", "-1.50000000")],
    )
    assert submitted.state == custodian_pb2.STATEMENT_STATE_PENDING
    assert [entry.state for entry in submitted.entry_outcomes] == [ENTRY.ENTRY_STATE_PENDING] * 3

    executed = execute(custodian, "execute-1")

    assert executed.state == custodian_pb2.STATEMENT_STATE_PARTIALLY_SUCCEEDED
    assert outcomes(executed) == [
        (ACME, "BTC", "1.00000000", ENTRY.ENTRY_STATE_SETTLED, "", f"{STATEMENT}/transfers/acme/BTC"),
        (ACME, "USDT", "-60120.000000", ENTRY.ENTRY_STATE_SETTLED, "", f"{STATEMENT}/transfers/acme/USDT"),
        (BETA, "BTC", "-1.50000000", ENTRY.ENTRY_STATE_FAILED, "LOSS_EXCEEDS_ALLOCATION", ""),
    ]
    assert list(executed.transfer_ids) == [
        f"{STATEMENT}/transfers/acme/USDT",
        f"{STATEMENT}/transfers/acme/BTC",
    ]
    assert balance(custodian, "clients/acme", f"{ACME}/allocated", "BTC") == "3.00000000"
    assert balance(custodian, "clients/acme", f"{ACME}/allocated", "USDT") == "39880.000000"
    assert balance(custodian, "clients/beta", f"{BETA}/allocated", "BTC") == "1.00000000"
    assert balance(custodian, OKX, f"{OKX}/settlement", "USDT") == "61120.000000"
    (claim,) = claims(custodian, "clients/beta", BETA_PRINCIPAL)
    assert (claim.name, claim.creditor, claim.debtor, claim.asset, claim.amount) == (
        "claims/1",
        OKX,
        "clients/beta",
        "BTC",
        "1.50000000",
    )
    assert (claim.statement, claim.connection, claim.reason) == (STATEMENT, BETA, "LOSS_EXCEEDS_ALLOCATION")
    assert from_timestamp(claim.create_time) == START_MS
    assert claims(custodian, OKX, OKX_PRINCIPAL) == [claim]
    assert claims(custodian, "clients/acme", ACME_PRINCIPAL) == []
    assert get_statement(custodian) == executed
    # Executing again returns the record; nothing moves twice.
    assert execute(custodian, "execute-again") == executed
    assert len(claims(custodian, "")) == 1
    reserves = custodian.custody.GetProofOfReserves(
        custodian_pb2.GetProofOfReservesRequest(), metadata=bearer(ADMIN)
    ).reserves
    assert {asset.asset: asset.difference for asset in reserves} == {"BTC": "0.00000000", "USDT": "0.000000"}
    records = custodian.custody.ListAuditRecords(
        custodian_pb2.ListAuditRecordsRequest(), metadata=bearer(BETA_PRINCIPAL)
    ).records
    assert [(record.resource, record.before, record.after) for record in records][-2:] == [
        (f"{STATEMENT}/entries/beta/BTC", "PENDING", "FAILED LOSS_EXCEEDS_ALLOCATION"),
        (
            "claims/1",
            "",
            f"RECORDED {OKX} claims 1.50000000 BTC from clients/beta (LOSS_EXCEEDS_ALLOCATION, {STATEMENT})",
        ),
    ]
    assert {(record.principal, record.method, record.request_id) for record in records[-2:]} == {
        ("bridge", "ExecuteStatement", "execute-1")
    }


def test_a_statement_waits_for_a_top_up_then_settles_when_executed_again(custodian: Custodian) -> None:
    submit(custodian, [(ACME, "USDT", "1500.000000"), (BETA, "BTC", "-0.50000000")])

    waiting = execute(custodian, "execute-1")

    assert waiting.state == custodian_pb2.STATEMENT_STATE_AWAITING_TOP_UP
    assert from_timestamp(waiting.top_up_deadline) == START_MS + TOP_UP_WINDOW_MS
    assert [entry.state for entry in waiting.entry_outcomes] == [ENTRY.ENTRY_STATE_PENDING] * 2
    assert balance(custodian, "clients/beta", f"{BETA}/allocated", "BTC") == "1.00000000", "nothing moved"
    assert execute(custodian, "execute-2") == waiting
    deposit(custodian, "okx-top-up", OKX, "USDT", "500")
    # The same request_id answers as the first time; a new one asks again.
    assert execute(custodian, "execute-1") == waiting

    executed = execute(custodian, "execute-3")

    assert executed.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    assert balance(custodian, OKX, f"{OKX}/settlement", "USDT") == "0.000000"
    assert balance(custodian, "clients/acme", f"{ACME}/allocated", "USDT") == "101500.000000"
    assert claims(custodian, "") == []
    # The deadline timer finds nothing left to do.
    advance(custodian, "advance-1", TOP_UP_WINDOW_MS)
    assert get_statement(custodian) == executed


def test_at_the_top_up_deadline_covered_gains_settle_and_the_unpaid_one_becomes_a_claim(
    custodian: Custodian,
) -> None:
    # The settlement account holds 1,000 USDT: acme's 900 is covered, beta's 200 is not.
    submit(custodian, [(ACME, "USDT", "900.000000"), (BETA, "USDT", "200.000000")])
    waiting = execute(custodian, "execute-1")
    assert waiting.state == custodian_pb2.STATEMENT_STATE_AWAITING_TOP_UP
    clock = custodian.control.GetClock(control_pb2.GetClockRequest(), metadata=bearer(ADMIN))
    assert from_timestamp(clock.next_timer_time) == START_MS + TOP_UP_WINDOW_MS

    advance(custodian, "advance-1", TOP_UP_WINDOW_MS)

    settled = get_statement(custodian)
    assert settled.state == custodian_pb2.STATEMENT_STATE_PARTIALLY_SUCCEEDED
    assert [(entry.state, entry.reason) for entry in settled.entry_outcomes] == [
        (ENTRY.ENTRY_STATE_SETTLED, ""),
        (ENTRY.ENTRY_STATE_FAILED, "INSUFFICIENT_SETTLEMENT_FUNDS"),
    ]
    assert from_timestamp(settled.execute_time) == START_MS + TOP_UP_WINDOW_MS
    assert balance(custodian, OKX, f"{OKX}/settlement", "USDT") == "100.000000"
    (claim,) = claims(custodian, "clients/beta", BETA_PRINCIPAL)
    assert (claim.creditor, claim.debtor, claim.amount, claim.reason, claim.state) == (
        "clients/beta",
        OKX,
        "200.000000",
        "INSUFFICIENT_SETTLEMENT_FUNDS",
        custodian_pb2.CLAIM_STATE_OPEN,
    )
    assert claim.closed_by_statement == ""
    records = custodian.custody.ListAuditRecords(
        custodian_pb2.ListAuditRecordsRequest(), metadata=bearer(OKX_PRINCIPAL)
    ).records
    assert (records[-1].resource, records[-1].before, records[-1].after) == (
        STATEMENT,
        "AWAITING_TOP_UP",
        "PARTIALLY_SUCCEEDED",
    )
    assert (records[-1].principal, records[-1].method) == ("system", "TopUpDeadline")

    # The unpaid 200 stays unsettled at the exchange and returns in statement 2; the exchange tops
    # up and it settles: the claim is closed by that statement, so beta is not owed it twice.
    deposit(custodian, "okx-top-up", OKX, "USDT", "200")
    second = statement_content(OKX, 2, [(BETA, "USDT", "200.000000")])
    custodian.settlement.SubmitStatement(
        custodian_pb2.SubmitStatementRequest(
            request_id="submit-2", statement=message_from_content(*signed(second))
        ),
        metadata=bearer(BRIDGE),
    )
    executed = custodian.settlement.ExecuteStatement(
        custodian_pb2.ExecuteStatementRequest(request_id="execute-2", statement=second.name),
        metadata=bearer(BRIDGE),
    ).statement
    assert executed.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    # The largest page size is served too (the store reads one claim more to see if a page follows).
    (closed,) = custodian.custody.ListClaims(
        custodian_pb2.ListClaimsRequest(party="clients/beta", page_size=1000), metadata=bearer(BETA_PRINCIPAL)
    ).claims
    assert (closed.state, closed.closed_by_statement) == (custodian_pb2.CLAIM_STATE_SETTLED, second.name)
    assert balance(custodian, "clients/beta", f"{BETA}/allocated", "USDT") == "200.000000"


def test_a_restart_sets_the_deadline_of_a_statement_still_waiting(tmp_path: Path) -> None:
    first = start(tmp_path)
    create_world(first)
    submit(first, [(ACME, "USDT", "5000.000000")])
    assert execute(first, "execute-1").state == custodian_pb2.STATEMENT_STATE_AWAITING_TOP_UP
    first.stop()

    second = start(tmp_path)
    try:
        clock = second.control.GetClock(control_pb2.GetClockRequest(), metadata=bearer(ADMIN))
        assert from_timestamp(clock.next_timer_time) == START_MS + TOP_UP_WINDOW_MS
        advance(second, "second-advance-1", TOP_UP_WINDOW_MS)
        assert get_statement(second).state == custodian_pb2.STATEMENT_STATE_FAILED
        assert [claim.amount for claim in claims(second, "clients/acme")] == ["5000.000000"]
    finally:
        second.stop()


def test_a_disputed_entry_is_held_then_resolved_as_an_adjustment(custodian: Custodian) -> None:
    submit(custodian, [(ACME, "BTC", "-0.50000000"), (BETA, "BTC", "0.25000000")])
    dispute = custodian_pb2.DisputeStatementEntryRequest(
        request_id="dispute-1",
        statement=STATEMENT,
        connection=ACME,
        asset="BTC",
        reason="fill at a stale price",
    )

    disputed = custodian.settlement.DisputeStatementEntry(dispute, metadata=bearer(BRIDGE)).statement

    assert disputed.state == custodian_pb2.STATEMENT_STATE_PENDING
    assert (disputed.entry_outcomes[0].state, disputed.entry_outcomes[0].reason) == (
        ENTRY.ENTRY_STATE_DISPUTED,
        "fill at a stale price",
    )
    executed = execute(custodian, "execute-1")
    assert executed.state == custodian_pb2.STATEMENT_STATE_PARTIALLY_SUCCEEDED
    assert [entry.state for entry in executed.entry_outcomes] == [
        ENTRY.ENTRY_STATE_DISPUTED,
        ENTRY.ENTRY_STATE_SETTLED,
    ]
    assert balance(custodian, "clients/acme", f"{ACME}/allocated", "BTC") == "2.00000000"

    resolved = custodian.settlement.ResolveDisputedEntry(
        custodian_pb2.ResolveDisputedEntryRequest(
            request_id="resolve-1", statement=STATEMENT, connection=ACME, asset="BTC"
        ),
        metadata=bearer(ADMIN),
    ).statement

    adjustment = f"{STATEMENT}/transfers/acme/BTC/adjustment"
    assert resolved.state == custodian_pb2.STATEMENT_STATE_SUCCEEDED
    assert (resolved.entry_outcomes[0].state, resolved.entry_outcomes[0].transfer_id) == (
        ENTRY.ENTRY_STATE_SETTLED,
        adjustment,
    )
    assert balance(custodian, "clients/acme", f"{ACME}/allocated", "BTC") == "1.50000000"
    journal = custodian.custody.ListTransfers(
        custodian_pb2.ListTransfersRequest(owner="clients/acme", account=f"{ACME}/allocated", asset="BTC"),
        metadata=bearer(ACME_PRINCIPAL),
    ).transfers
    assert [(transfer.id, transfer.kind, transfer.reference) for transfer in journal][-1] == (
        adjustment,
        "SETTLEMENT_LOSS",
        STATEMENT,
    )
    error = refused(
        lambda: custodian.settlement.ResolveDisputedEntry(
            custodian_pb2.ResolveDisputedEntryRequest(
                request_id="resolve-2", statement=STATEMENT, connection=ACME, asset="BTC"
            ),
            metadata=bearer(BRIDGE),
        )
    )
    assert (error.code, error.reason) == (grpc.StatusCode.FAILED_PRECONDITION, "ENTRY_NOT_DISPUTED")


def test_bad_entry_requests_are_invalid_arguments_naming_the_field_and_write_nothing(
    custodian: Custodian,
) -> None:
    submit(custodian, [(ACME, "BTC", "-0.50000000")])
    before = custodian.row_counts()
    cases = [
        ({"reason": ""}, "reason", "DISPUTE_REASON_INVALID"),
        ({"asset": "DOGE"}, "asset", "UNKNOWN_ASSET"),
        ({"connection": "clients/acme/connections/other"}, "connection", "CONNECTION_OF_OTHER_EXCHANGE"),
        ({"statement": "statements/1"}, "statement", "RESOURCE_NAME_INVALID"),
        ({"request_id": ""}, "request_id", "REQUEST_ID_INVALID"),
    ]
    for change, field, reason in cases:
        fields = {
            "request_id": f"bad-{field}",
            "statement": STATEMENT,
            "connection": ACME,
            "asset": "BTC",
            "reason": "price",
            **change,
        }
        error = refused(
            lambda fields=fields: custodian.settlement.DisputeStatementEntry(
                custodian_pb2.DisputeStatementEntryRequest(**fields), metadata=bearer(BRIDGE)
            )
        )
        assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, reason), field
        assert error.field_violations == (field,)
    assert custodian.row_counts() == before


def test_only_the_bridge_and_admin_dispute_and_clients_see_only_their_own_claims(
    custodian: Custodian,
) -> None:
    submit(custodian, [(BETA, "BTC", "-2.00000000")])
    dispute = custodian_pb2.DisputeStatementEntryRequest(
        request_id="dispute-1", statement=STATEMENT, connection=BETA, asset="BTC", reason="price"
    )
    for principal in (BETA_PRINCIPAL, OKX_PRINCIPAL):
        error = refused(
            lambda principal=principal: custodian.settlement.DisputeStatementEntry(
                dispute, metadata=bearer(principal)
            )
        )
        assert error.code == grpc.StatusCode.PERMISSION_DENIED
    execute(custodian, "execute-1")

    for principal, party in ((ACME_PRINCIPAL, "clients/beta"), (ACME_PRINCIPAL, ""), (OKX_PRINCIPAL, "")):
        error = refused(lambda principal=principal, party=party: claims(custodian, party, principal))
        assert (error.code, error.reason) == (grpc.StatusCode.PERMISSION_DENIED, "NOT_RESOURCE_OWNER")
    assert [claim.name for claim in claims(custodian, "", BRIDGE)] == ["claims/1"]
    error = refused(lambda: claims(custodian, "clients/ghost"))
    assert (error.code, error.reason) == (grpc.StatusCode.NOT_FOUND, "PARTY_NOT_FOUND")


def test_claims_are_listed_in_pages(custodian: Custodian) -> None:
    submit(custodian, [(ACME, "BTC", "-3"), (ACME, "USDT", "-100001"), (BETA, "BTC", "-2")])
    execute(custodian, "execute-1")
    first = custodian.custody.ListClaims(
        custodian_pb2.ListClaimsRequest(party=OKX, page_size=2), metadata=bearer(OKX_PRINCIPAL)
    )
    second = custodian.custody.ListClaims(
        custodian_pb2.ListClaimsRequest(party=OKX, page_size=2, page_token=first.next_page_token),
        metadata=bearer(OKX_PRINCIPAL),
    )
    assert [claim.name for claim in first.claims] == ["claims/1", "claims/2"]
    assert ([claim.name for claim in second.claims], second.next_page_token) == (["claims/3"], "")
    error = refused(
        lambda: custodian.custody.ListClaims(
            custodian_pb2.ListClaimsRequest(party="clients/acme", page_token=first.next_page_token),
            metadata=bearer(ADMIN),
        )
    )
    assert (error.code, error.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
