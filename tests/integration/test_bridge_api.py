"""The bridge's client-facing API over real gRPC: the event feed, listings, reconciliation, top-up, freeze.

Every test starts the custodian, the exchange and the bridge in process (tests/integration/sandbox.py)
and talks to them only through their protos. Event streams are read in a background thread with a
deadline and are always cancelled, so a missing event fails a test instead of hanging it.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from oes.exchange.v1 import exchange_pb2
from service_kit.auth import ADMIN, Principal
from service_kit.rpc_errors import remote_error
from settlement_bridge.bootstrap import builder
from tests.integration import sandbox as sandbox_module
from tests.integration.sandbox import (
    ALLOCATED,
    BTC,
    CONNECTION,
    InProcessCrash,
    Sandbox,
    start_bridge,
    start_sandbox,
)
from tests.integration.settlement_bridge.conftest import ACME, GLOBEX, channel
from tests.integration.support import bearer

GLOBEX_CONNECTION = "clients/globex/connections/okx-sim"
EXCHANGE = "exchanges/okx-sim"
STATEMENT_1 = "exchanges/okx-sim/statements/1"
CONFIRM_STATEMENT = "/oes.exchange.v1.PartnerService/ConfirmStatement"
CLEAR_ALLOCATION = "/oes.exchange.v1.PartnerService/ClearAllocation"
RESERVE_ALLOCATION = "/oes.exchange.v1.PartnerService/ReserveAllocation"
# How long a test waits for an event or a condition before it fails (never reached when all is well).
WAIT_S = 10.0
# A backstop deadline on every stream, in case a test forgets to cancel one.
STREAM_DEADLINE_S = 30.0
POLL_S = 0.01
# The exchange holds a faulted call this long, so the workflow that made it is surely still running
# when the test acts beside it (the tests assert on the order of events, never on durations).
HELD_CALL_S = 2

EventPredicate = Callable[[bridge_pb2.Event], bool]


@pytest.fixture()
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    built = start_sandbox(tmp_path)
    yield built
    built.stop()


class EventStream:
    """One StreamEvents call, read in a background thread into `events`."""

    def __init__(self, sandbox: Sandbox, principal: Principal, after_sequence: int) -> None:
        self._call = sandbox.network.StreamEvents(
            bridge_pb2.StreamEventsRequest(after_sequence=after_sequence),
            metadata=bearer(principal),
            timeout=STREAM_DEADLINE_S,
        )
        # Unbounded on purpose: a test's stream carries a few dozen events and ends at its deadline.
        self._received: queue.Queue[bridge_pb2.Event | grpc.RpcError] = queue.Queue()
        self.events: list[bridge_pb2.Event] = []
        self.error: grpc.RpcError | None = None
        self._thread = threading.Thread(target=self._read, name="event-stream", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for response in self._call:
                self._received.put(response.event)
        except grpc.RpcError as error:
            self._received.put(error)

    def _take(self, deadline: float) -> bool:
        """Moves one received item into `events` (or `error`); False when the deadline passed first."""
        remaining_s = deadline - time.monotonic()
        if remaining_s <= 0:
            return False
        try:
            item = self._received.get(timeout=remaining_s)
        except queue.Empty:
            return False
        if isinstance(item, grpc.RpcError):
            self.error = item
        else:
            self.events.append(item)
        return True

    def read_until(self, predicate: EventPredicate, timeout_s: float = WAIT_S) -> list[bridge_pb2.Event]:
        """Reads until an event matching `predicate` has arrived; returns every event read so far."""
        deadline = time.monotonic() + timeout_s
        while not any(predicate(event) for event in self.events):
            if self.error is not None:
                raise AssertionError(f"the stream ended with {remote_error(self.error)}")
            if not self._take(deadline):
                raise AssertionError(f"no matching event within {timeout_s} s; read {self.events}")
        return self.events

    def read_through(self, sequence: int) -> list[bridge_pb2.Event]:
        """Reads until the event `sequence` (or a later one) has arrived."""
        return self.read_until(lambda event: event.sequence >= sequence)

    def wait_for_error(self, timeout_s: float = WAIT_S) -> grpc.RpcError:
        """The error the stream ended with."""
        deadline = time.monotonic() + timeout_s
        while self.error is None:
            if not self._take(deadline):
                raise AssertionError(f"the stream did not fail within {timeout_s} s; read {self.events}")
        return self.error

    def close(self) -> None:
        self._call.cancel()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive(), "the stream reader did not stop after cancel"


@contextmanager
def open_stream(sandbox: Sandbox, principal: Principal, after_sequence: int = 0) -> Iterator[EventStream]:
    """A StreamEvents call that is cancelled however the block ends."""
    stream = EventStream(sandbox, principal, after_sequence)
    try:
        yield stream
    finally:
        stream.close()


def bridge_control(sandbox: Sandbox) -> control_pb2_grpc.ControlServiceStub:
    return control_pb2_grpc.ControlServiceStub(channel(sandbox.bridge.port))


def exchange_control(sandbox: Sandbox) -> control_pb2_grpc.ControlServiceStub:
    return control_pb2_grpc.ControlServiceStub(channel(sandbox.exchange.port))


def journal(sandbox: Sandbox) -> control_pb2.ListJournalResponse:
    return bridge_control(sandbox).ListJournal(control_pb2.ListJournalRequest(), metadata=bearer(ADMIN))


def refusal(error: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    remote = remote_error(error)
    return remote.code, remote.reason


def connect_globex(sandbox: Sandbox) -> None:
    """A second client at the custodian with 5 BTC, connected to okx-sim through the bridge."""
    sandbox.custody_admin.CreateParty(
        custodian_pb2.CreatePartyRequest(
            request_id="party-globex",
            party=custodian_pb2.Party(
                name="clients/globex", kind=custodian_pb2.PARTY_KIND_CLIENT, display_name="Globex"
            ),
        ),
        metadata=bearer(ADMIN),
    )
    sandbox.custody_admin.SimulateDeposit(
        custodian_pb2.SimulateDepositRequest(
            request_id="deposit-globex", owner="clients/globex", asset="BTC", amount="5"
        ),
        metadata=bearer(ADMIN),
    )
    connection = sandbox.network.CreateConnection(
        bridge_pb2.CreateConnectionRequest(
            request_id="connect-globex", client="clients/globex", exchange=EXCHANGE
        ),
        metadata=bearer(GLOBEX),
    ).connection
    assert connection.name == GLOBEX_CONNECTION


def allocate_as(
    sandbox: Sandbox, principal: Principal, connection: str, request_id: str, asset: str, amount: str
) -> bridge_pb2.Allocation:
    request = bridge_pb2.CreateAllocationRequest(
        request_id=request_id, connection=connection, asset=asset, amount=amount
    )
    return sandbox.network.CreateAllocation(request, metadata=bearer(principal)).allocation


def deallocate(sandbox: Sandbox, request_id: str, asset: str, amount: str) -> bridge_pb2.Deallocation:
    request = bridge_pb2.CreateDeallocationRequest(
        request_id=request_id, connection=CONNECTION, asset=asset, amount=amount
    )
    return sandbox.network.CreateDeallocation(request, metadata=bearer(ACME)).deallocation


def market_buy(sandbox: Sandbox, request_id: str, quantity: str) -> exchange_pb2.Order:
    order = sandbox.trading.PlaceOrder(
        exchange_pb2.PlaceOrderRequest(
            request_id=request_id,
            account=ACME.name,
            market="BTC-USDT",
            side=exchange_pb2.SIDE_BUY,
            type=exchange_pb2.ORDER_TYPE_MARKET,
            quantity=quantity,
        ),
        metadata=bearer(ACME),
    ).order
    assert order.state == exchange_pb2.ORDER_STATE_FILLED
    return order


def transfer_ended(name: str) -> EventPredicate:
    return lambda event: event.subject == name and event.attributes["state"] != "PENDING"


def journal_view(event: bridge_pb2.Event) -> tuple[int, int, str, str, dict[str, str]]:
    """An event as the control service's journal shows it: the client rides in the attributes."""
    attributes = dict(event.attributes)
    if event.client:
        attributes["client"] = event.client
    return event.sequence, event.event_time.ToMilliseconds(), event.kind, event.subject, attributes


def custody_agrees_with_mirrors(sandbox: Sandbox, connection: str = CONNECTION) -> None:
    custody = sandbox.custody_units(connection.split("/connections/")[0])
    mirrors = sandbox.mirror_units()
    for asset in ("BTC", "USDT"):
        allocated = custody.get((f"{connection}/allocated", asset), 0)
        assert allocated == mirrors.get((connection, asset), 0), asset


def arm_latency(sandbox: Sandbox, method: str) -> None:
    """Holds the exchange's first call of `method` for HELD_CALL_S before serving it."""
    exchange_control(sandbox).SetFault(
        control_pb2.SetFaultRequest(
            request_id=f"slow-{method}",
            fault=control_pb2.Fault(
                call=control_pb2.CallFault(
                    method=method,
                    action=control_pb2.CALL_FAULT_ACTION_ADD_LATENCY,
                    latency=Duration(seconds=HELD_CALL_S),
                ),
                trigger=control_pb2.FaultTrigger(first_calls=1),
            ),
        ),
        metadata=bearer(ADMIN),
    )


def wait_until_fault_fired(sandbox: Sandbox) -> None:
    """Waits until the exchange has started holding the faulted call."""
    deadline = time.monotonic() + WAIT_S
    while not any(
        fault.fired_count
        for fault in exchange_control(sandbox)
        .ListFaults(control_pb2.ListFaultsRequest(), metadata=bearer(ADMIN))
        .faults
    ):
        assert time.monotonic() < deadline, "the faulted call never reached the exchange"
        time.sleep(POLL_S)


@contextmanager
def in_background(name: str, work: Callable[[], object]) -> Iterator[list[object]]:
    """Runs `work` in a thread; the block's end joins it and re-raises what it raised."""
    results: list[object] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as error:
            failures.append(error)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    try:
        yield results
    finally:
        thread.join(WAIT_S + HELD_CALL_S)
    assert not thread.is_alive(), f"{name} did not end"
    if failures:
        raise failures[0]


# --- 1. The event feed -------------------------------------------------------------------------


def test_each_client_streams_its_own_events_and_the_admin_streams_all_of_them(sandbox: Sandbox) -> None:
    connect_globex(sandbox)
    usdt = sandbox.allocate("acme-usdt", "USDT", "100000")
    globex_btc = allocate_as(sandbox, GLOBEX, GLOBEX_CONNECTION, "globex-btc", "BTC", "1")
    market_buy(sandbox, "acme-buy", "0.1")
    settlement = sandbox.settle("settle-1")
    assert settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    # A last allocation of acme after the cycle: once a stream has it, it has read past the cycle.
    btc = sandbox.allocate("acme-btc", "BTC", "0.25")
    assert {usdt.state, globex_btc.state, btc.state} == {bridge_pb2.TRANSFER_STATE_CLEARED}
    last_sequence = journal(sandbox).last_sequence

    with (
        open_stream(sandbox, ACME) as acme,
        open_stream(sandbox, GLOBEX) as globex,
        open_stream(sandbox, ADMIN) as admin,
    ):
        acme_events = list(acme.read_until(transfer_ended(btc.name)))
        globex_events = list(globex.read_until(transfer_ended(globex_btc.name)))
        admin_events = list(admin.read_through(last_sequence))

    # The admin sees the whole journal, from 1 and without gaps.
    assert [event.sequence for event in admin_events] == list(range(1, last_sequence + 1))
    # A client sees exactly the admin's events that carry its own name, and the network-wide ones
    # (settlements, margin calls, defaults: `client` empty), in the same order and unchanged;
    # never another client's.
    for client, events in ((ACME.name, acme_events), (GLOBEX.name, globex_events)):
        assert events == [
            event
            for event in admin_events
            if event.client in (client, "") and event.sequence <= events[-1].sequence
        ]
    assert any(event.kind == "SETTLEMENT" for event in acme_events), "acme read past the cycle"
    assert acme_events[-1].subject == btc.name, "acme read through its last allocation"

    # An allocation: accepted PENDING, then CLEARED, with its facts as strings.
    allocation_events = [event for event in acme_events if event.subject == usdt.name]
    assert [(event.kind, event.client) for event in allocation_events] == [("ALLOCATION", ACME.name)] * 2
    assert [dict(event.attributes) for event in allocation_events] == [
        {
            "connection": CONNECTION,
            "asset": "USDT",
            "amount": "100000.000000",
            "state": state,
            "reason": "",
        }
        for state in ("PENDING", "CLEARED")
    ]
    assert [dict(event.attributes) for event in globex_events if event.subject == globex_btc.name] == [
        {
            "connection": GLOBEX_CONNECTION,
            "asset": "BTC",
            "amount": "1.00000000",
            "state": state,
            "reason": "",
        }
        for state in ("PENDING", "CLEARED")
    ]

    # A settlement: started RUNNING at CUTOFF, ended SUCCEEDED with its statement.
    settlement_events = [event for event in admin_events if event.kind == "SETTLEMENT"]
    assert [(event.subject, event.client) for event in settlement_events] == [(settlement.name, "")] * 2
    started, ended = (dict(event.attributes) for event in settlement_events)
    assert started == {
        "exchange": EXCHANGE,
        "state": "RUNNING",
        "step": "CUTOFF",
        "reason": "",
        "statement": "",
        "entries": "0",
    }
    assert ended == {
        "exchange": EXCHANGE,
        "state": "SUCCEEDED",
        "step": "DONE",
        "reason": "",
        "statement": STATEMENT_1,
        "entries": str(len(settlement.statement.entries)),
    }
    assert len(settlement.statement.entries) == 2, "acme's BTC gain and USDT loss"
    assert [event.kind for event in admin_events if event.client == ""] == ["SETTLEMENT", "SETTLEMENT"]
    assert all(event.event_time.ToMilliseconds() > 0 for event in admin_events)


def test_a_stream_resumed_after_a_sequence_replays_exactly_the_rest_and_the_journal_agrees(
    sandbox: Sandbox,
) -> None:
    connect_globex(sandbox)
    acme_allocations = []
    for number in range(3):
        acme_allocations.append(sandbox.allocate(f"acme-{number}", "BTC", "0.1"))
        allocate_as(sandbox, GLOBEX, GLOBEX_CONNECTION, f"globex-{number}", "BTC", "0.1")
    last_sequence = journal(sandbox).last_sequence
    with open_stream(sandbox, ADMIN) as admin, open_stream(sandbox, ACME) as acme:
        everything = list(admin.read_through(last_sequence))
        acme_everything = list(acme.read_until(transfer_ended(acme_allocations[-1].name)))
    assert [event.kind for event in everything].count("ALLOCATION") == 12
    assert [event.kind for event in acme_everything].count("ALLOCATION") == 6
    resume_after = everything[4].sequence
    acme_resume_after = acme_everything[1].sequence

    with (
        open_stream(sandbox, ADMIN, after_sequence=resume_after) as admin,
        open_stream(sandbox, ACME, after_sequence=acme_resume_after) as acme,
    ):
        assert admin.read_through(last_sequence) == everything[5:]
        assert acme.read_through(acme_everything[-1].sequence) == acme_everything[2:]
        # A resumed stream goes on with each new event as it is committed.
        later = sandbox.allocate("acme-later", "USDT", "10")
        acme_later = acme.read_until(transfer_ended(later.name))[len(acme_everything) - 2 :]
        admin_later = admin.read_until(transfer_ended(later.name))[len(everything) - 5 :]
    assert [(event.subject, event.attributes["state"]) for event in acme_later] == [
        (later.name, "PENDING"),
        (later.name, "CLEARED"),
    ]
    assert admin_later == acme_later
    sequences = [event.sequence for event in everything + admin_later]
    assert sequences == list(range(1, len(sequences) + 1)), "from 1, increasing, without gaps"

    # The control service's journal lists the same events, the client among the attributes.
    listed = journal(sandbox)
    assert listed.last_sequence == sequences[-1]
    assert [
        (
            record.sequence,
            record.event_time.ToMilliseconds(),
            record.kind,
            record.subject,
            dict(record.attributes),
        )
        for record in listed.events
    ] == [journal_view(event) for event in everything + admin_later]
    allocation_records = [record for record in listed.events if record.kind == "ALLOCATION"]
    assert {record.attributes["client"] for record in allocation_records} == {ACME.name, GLOBEX.name}
    paged = bridge_control(sandbox).ListJournal(
        control_pb2.ListJournalRequest(after_sequence=resume_after, page_size=3), metadata=bearer(ADMIN)
    )
    assert [record.sequence for record in paged.events] == [
        resume_after + 1,
        resume_after + 2,
        resume_after + 3,
    ]


def test_a_fifth_concurrent_stream_is_refused_until_one_closes(sandbox: Sandbox) -> None:
    allocation = sandbox.allocate("acme-btc", "BTC", "0.1")
    with (
        open_stream(sandbox, ACME) as first,
        open_stream(sandbox, ADMIN) as second,
        open_stream(sandbox, ACME) as third,
        open_stream(sandbox, ADMIN) as fourth,
    ):
        # Each of the four holds its slot once it has sent an event.
        for stream in (first, second, third, fourth):
            stream.read_until(transfer_ended(allocation.name))
        with open_stream(sandbox, ACME) as fifth:
            assert refusal(fifth.wait_for_error()) == (grpc.StatusCode.UNAVAILABLE, "EVENT_STREAMS_EXHAUSTED")
        first.close()
        # The server notices the cancel within its wait between reads; then a slot is free again.
        deadline = time.monotonic() + WAIT_S
        while True:
            with open_stream(sandbox, ACME) as again:
                try:
                    again.read_until(transfer_ended(allocation.name), timeout_s=1)
                    break
                except AssertionError:
                    assert again.error is not None, "neither an event nor an error"
                    assert refusal(again.error)[1] == "EVENT_STREAMS_EXHAUSTED"
                    assert time.monotonic() < deadline, "no slot came free after a stream was cancelled"
            time.sleep(0.1)


def test_a_negative_after_sequence_is_refused(sandbox: Sandbox) -> None:
    with open_stream(sandbox, ACME, after_sequence=-1) as stream:
        assert refusal(stream.wait_for_error()) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "AFTER_SEQUENCE_INVALID",
        )


# --- 2. Listings -------------------------------------------------------------------------------


def test_list_connections_shows_a_client_its_own_and_the_admin_all_sorted(sandbox: Sandbox) -> None:
    connect_globex(sandbox)

    def listed(principal: Principal, client: str = "") -> list[tuple[str, str, str, int]]:
        response = sandbox.network.ListConnections(
            bridge_pb2.ListConnectionsRequest(client=client), metadata=bearer(principal)
        )
        assert all(connection.create_time.ToMilliseconds() > 0 for connection in response.connections)
        return [
            (connection.name, connection.client, connection.exchange, connection.state)
            for connection in response.connections
        ]

    acme_row = (CONNECTION, ACME.name, EXCHANGE, bridge_pb2.CONNECTION_STATE_ACTIVE)
    globex_row = (GLOBEX_CONNECTION, GLOBEX.name, EXCHANGE, bridge_pb2.CONNECTION_STATE_ACTIVE)
    assert listed(ACME) == listed(ACME, ACME.name) == [acme_row]
    assert listed(GLOBEX) == [globex_row]
    assert listed(ADMIN) == [acme_row, globex_row]
    assert listed(ADMIN, GLOBEX.name) == [globex_row]
    with pytest.raises(grpc.RpcError) as other_client:
        listed(ACME, GLOBEX.name)
    assert refusal(other_client.value)[0] == grpc.StatusCode.PERMISSION_DENIED
    assert listed(ADMIN, "clients/nobody") == []
    with pytest.raises(grpc.RpcError) as malformed:
        listed(ADMIN, "globex")
    assert refusal(malformed.value) == (grpc.StatusCode.INVALID_ARGUMENT, "CLIENT_NAME_INVALID")


def test_allocations_and_deallocations_list_newest_first_in_pages(sandbox: Sandbox) -> None:
    connect_globex(sandbox)
    created = []
    for number in range(1, 6):
        created.append(sandbox.allocate(f"acme-{number}", "BTC", f"0.{number}"))
        # Another connection's allocations between acme's are not on acme's pages.
        allocate_as(sandbox, GLOBEX, GLOBEX_CONNECTION, f"globex-{number}", "BTC", "0.01")

    def allocation_page(token: str = "", principal: Principal = ACME) -> bridge_pb2.ListAllocationsResponse:
        return sandbox.network.ListAllocations(
            bridge_pb2.ListAllocationsRequest(connection=CONNECTION, page_size=2, page_token=token),
            metadata=bearer(principal),
        )

    pages = [allocation_page()]
    while pages[-1].next_page_token:
        assert len(pages) < 5, "paging does not end"
        pages.append(allocation_page(pages[-1].next_page_token))
    assert [[item.name for item in page.allocations] for page in pages] == [
        [created[4].name, created[3].name],
        [created[2].name, created[1].name],
        [created[0].name],
    ]
    assert [item for page in pages for item in page.allocations] == list(reversed(created))
    assert allocation_page(principal=ADMIN) == pages[0]
    token = pages[0].next_page_token

    # A token only continues the listing it came from.
    for request, call in (
        (
            bridge_pb2.ListAllocationsRequest(connection=GLOBEX_CONNECTION, page_size=2, page_token=token),
            sandbox.network.ListAllocations,
        ),
        (
            bridge_pb2.ListDeallocationsRequest(connection=CONNECTION, page_size=2, page_token=token),
            sandbox.network.ListDeallocations,
        ),
        (
            bridge_pb2.ListAllocationsRequest(connection=CONNECTION, page_size=2, page_token="garbage"),
            sandbox.network.ListAllocations,
        ),
    ):
        with pytest.raises(grpc.RpcError) as foreign:
            call(request, metadata=bearer(ADMIN))
        assert refusal(foreign.value) == (grpc.StatusCode.INVALID_ARGUMENT, "PAGE_TOKEN_INVALID")
    with pytest.raises(grpc.RpcError) as too_large:
        sandbox.network.ListAllocations(
            bridge_pb2.ListAllocationsRequest(connection=CONNECTION, page_size=1001), metadata=bearer(ACME)
        )
    assert refusal(too_large.value) == (grpc.StatusCode.INVALID_ARGUMENT, "PAGE_SIZE_INVALID")

    deallocations = [deallocate(sandbox, f"home-{number}", "BTC", "0.1") for number in range(1, 4)]
    assert {item.state for item in deallocations} == {bridge_pb2.TRANSFER_STATE_CLEARED}
    first = sandbox.network.ListDeallocations(
        bridge_pb2.ListDeallocationsRequest(connection=CONNECTION, page_size=2), metadata=bearer(ACME)
    )
    second = sandbox.network.ListDeallocations(
        bridge_pb2.ListDeallocationsRequest(
            connection=CONNECTION, page_size=2, page_token=first.next_page_token
        ),
        metadata=bearer(ACME),
    )
    assert [item.name for item in first.deallocations] == [deallocations[2].name, deallocations[1].name]
    assert list(second.deallocations) == [deallocations[0]] and second.next_page_token == ""
    globex_deallocations = sandbox.network.ListDeallocations(
        bridge_pb2.ListDeallocationsRequest(connection=GLOBEX_CONNECTION), metadata=bearer(GLOBEX)
    )
    assert list(globex_deallocations.deallocations) == [] and globex_deallocations.next_page_token == ""


def test_listing_an_unknown_or_foreign_connection_is_refused(sandbox: Sandbox) -> None:
    connect_globex(sandbox)
    for call, request_type in (
        (sandbox.network.ListAllocations, bridge_pb2.ListAllocationsRequest),
        (sandbox.network.ListDeallocations, bridge_pb2.ListDeallocationsRequest),
    ):
        with pytest.raises(grpc.RpcError) as unknown:
            call(request_type(connection="clients/acme/connections/nowhere-sim"), metadata=bearer(ACME))
        assert refusal(unknown.value) == (grpc.StatusCode.NOT_FOUND, "CONNECTION_NOT_FOUND")
        with pytest.raises(grpc.RpcError) as foreign:
            call(request_type(connection=GLOBEX_CONNECTION), metadata=bearer(ACME))
        assert refusal(foreign.value)[0] == grpc.StatusCode.PERMISSION_DENIED


# --- 3. Reconciliation -------------------------------------------------------------------------


def test_reconcile_finds_a_break_made_on_purpose_and_reports_it_to_the_client(sandbox: Sandbox) -> None:
    assert sandbox.allocate("acme-btc", "BTC", "1").state == bridge_pb2.TRANSFER_STATE_CLEARED

    def reconcile(principal: Principal = ADMIN) -> bridge_pb2.ReconcileResponse:
        return sandbox.bridge_admin.Reconcile(
            bridge_pb2.ReconcileRequest(exchange=EXCHANGE), metadata=bearer(principal)
        )

    sequence_before = journal(sandbox).last_sequence
    clean = reconcile()
    assert list(clean.breaks) == []
    clock = bridge_control(sandbox).GetClock(control_pb2.GetClockRequest(), metadata=bearer(ADMIN))
    assert clean.HasField("reconcile_time") and clean.reconcile_time == clock.now
    assert journal(sandbox).last_sequence == sequence_before, "a clean reconciliation adds no event"

    # The admin credits acme's mirror at the exchange without the custodian: 0.5 BTC too much.
    sandbox.partner.ReserveAllocation(
        exchange_pb2.ReserveAllocationRequest(
            request_id="manual-reserve",
            connection=CONNECTION,
            allocation_id="manual-1",
            asset="BTC",
            amount="0.5",
        ),
        metadata=bearer(ADMIN),
    )
    sandbox.partner.ClearAllocation(
        exchange_pb2.ClearAllocationRequest(request_id="manual-clear", allocation_id="manual-1"),
        metadata=bearer(ADMIN),
    )
    expected = bridge_pb2.ReconciliationBreak(
        connection=CONNECTION, asset="BTC", allocated="1.00000000", mirror="1.50000000"
    )
    with open_stream(sandbox, ACME, after_sequence=sequence_before) as acme:
        assert list(reconcile().breaks) == [expected]
        events = acme.read_until(lambda event: event.kind == "RECONCILIATION_BREAK")
    assert [(event.kind, event.subject, event.client, dict(event.attributes)) for event in events] == [
        (
            "RECONCILIATION_BREAK",
            CONNECTION,
            ACME.name,
            {"asset": "BTC", "allocated": "1.00000000", "mirror": "1.50000000"},
        )
    ]
    # The cycle's own reconciliation finds it too, and records it with the cycle.
    settlement = sandbox.settle("settle-with-break")
    assert settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    assert list(settlement.breaks) == [expected]
    kinds = [record.kind for record in journal(sandbox).events if record.sequence > sequence_before]
    assert kinds.count("RECONCILIATION_BREAK") == 2

    with pytest.raises(grpc.RpcError) as client_call:
        reconcile(ACME)
    assert refusal(client_call.value)[0] == grpc.StatusCode.PERMISSION_DENIED
    for exchange, expected_refusal in (
        ("exchanges/nowhere-sim", (grpc.StatusCode.NOT_FOUND, "EXCHANGE_NOT_FOUND")),
        ("okx-sim", (grpc.StatusCode.INVALID_ARGUMENT, "EXCHANGE_NAME_INVALID")),
    ):
        with pytest.raises(grpc.RpcError) as refused:
            sandbox.bridge_admin.Reconcile(
                bridge_pb2.ReconcileRequest(exchange=exchange), metadata=bearer(ADMIN)
            )
        assert refusal(refused.value) == expected_refusal


@pytest.mark.parametrize("workflow", ["cycle", "allocation"])
def test_reconcile_beside_a_running_workflow_reports_no_false_break(sandbox: Sandbox, workflow: str) -> None:
    assert sandbox.allocate("acme-usdt", "USDT", "100000").state == bridge_pb2.TRANSFER_STATE_CLEARED
    market_buy(sandbox, "acme-buy", "0.1")
    # The cycle is held once the custodian has executed its statement, before the exchange re-bases
    # its mirrors; the allocation once the custodian has locked the credit, before the exchange clears it.
    held_method, work, ended_state = {
        "cycle": (
            CONFIRM_STATEMENT,
            lambda: sandbox.settle("settle-slow"),
            bridge_pb2.SETTLEMENT_STATE_SUCCEEDED,
        ),
        "allocation": (
            CLEAR_ALLOCATION,
            lambda: sandbox.allocate("acme-btc", "BTC", "1"),
            bridge_pb2.TRANSFER_STATE_CLEARED,
        ),
    }[workflow]
    arm_latency(sandbox, held_method)
    with in_background(f"slow-{workflow}", work) as results:
        wait_until_fault_fired(sandbox)
        found = sandbox.bridge_admin.Reconcile(
            bridge_pb2.ReconcileRequest(exchange=EXCHANGE), metadata=bearer(ADMIN)
        )
    ended = results[0]
    assert isinstance(ended, bridge_pb2.Settlement | bridge_pb2.Allocation)
    assert ended.state == ended_state
    custody_agrees_with_mirrors(sandbox)
    assert list(found.breaks) == []
    assert [record for record in journal(sandbox).events if record.kind == "RECONCILIATION_BREAK"] == []


# --- 4. Top-up ---------------------------------------------------------------------------------


def seed_with_small_settlement_account(sandbox: Sandbox) -> None:
    """As sandbox.seed, except that okx-sim's BTC settlement account holds only 0.01 BTC."""
    admin = sandbox.custody_admin
    for name, kind in (
        ("clients/acme", custodian_pb2.PARTY_KIND_CLIENT),
        (EXCHANGE, custodian_pb2.PARTY_KIND_EXCHANGE),
    ):
        admin.CreateParty(
            custodian_pb2.CreatePartyRequest(
                request_id=f"party-{name}", party=custodian_pb2.Party(name=name, kind=kind, display_name=name)
            ),
            metadata=bearer(ADMIN),
        )
    venue = sandbox.partner.GetVenue(exchange_pb2.GetVenueRequest(), metadata=bearer(ADMIN))
    admin.RegisterExchangeKey(
        custodian_pb2.RegisterExchangeKeyRequest(
            request_id="key-okx", exchange=EXCHANGE, public_key=venue.statement_public_key
        ),
        metadata=bearer(ADMIN),
    )
    for owner, asset, amount in (
        ("clients/acme", "BTC", "10"),
        ("clients/acme", "USDT", "500000"),
        (EXCHANGE, "BTC", "0.01"),
        (EXCHANGE, "USDT", "10000000"),
    ):
        admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=f"deposit-{owner}-{asset}", owner=owner, asset=asset, amount=amount
            ),
            metadata=bearer(ADMIN),
        )


def test_a_short_settlement_account_holds_the_cycle_with_one_margin_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "seed", seed_with_small_settlement_account)
    sandbox = start_sandbox(tmp_path)
    try:
        assert sandbox.allocate("acme-usdt", "USDT", "100000").state == bridge_pb2.TRANSFER_STATE_CLEARED
        # acme's 0.5 BTC gain is more than the 0.01 BTC the exchange's settlement account holds.
        market_buy(sandbox, "acme-buy", "0.5")
        custody_before = sandbox.custody_units("clients/acme")

        waiting = sandbox.settle("settle-1")
        assert (waiting.state, waiting.step) == (
            bridge_pb2.SETTLEMENT_STATE_RUNNING,
            bridge_pb2.SETTLEMENT_STEP_EXECUTE,
        )
        assert waiting.statement.name == STATEMENT_1
        recorded = custodian_pb2_grpc.CustodySettlementServiceStub(channel(sandbox.custodian.port))
        statement = recorded.GetStatement(
            custodian_pb2.GetStatementRequest(name=STATEMENT_1), metadata=bearer(ADMIN)
        ).statement
        assert statement.state == custodian_pb2.STATEMENT_STATE_AWAITING_TOP_UP
        assert sandbox.custody_units("clients/acme") == custody_before, "nothing moved while waiting"

        # Running again (a new request, and a retry of the first) asks the custodian again: still
        # waiting, the same cycle, and no second margin call.
        again = sandbox.settle("settle-2")
        retried = sandbox.settle("settle-1")
        for cycle in (again, retried):
            assert (cycle.name, cycle.state, cycle.step) == (
                waiting.name,
                bridge_pb2.SETTLEMENT_STATE_RUNNING,
                bridge_pb2.SETTLEMENT_STEP_EXECUTE,
            )
        margin_calls = [record for record in journal(sandbox).events if record.kind == "MARGIN_CALL"]
        assert [(record.subject, dict(record.attributes)) for record in margin_calls] == [
            (STATEMENT_1, {"exchange": EXCHANGE, "settlement": waiting.name, "statement": STATEMENT_1})
        ]
        with open_stream(sandbox, ADMIN) as admin:
            streamed = admin.read_until(lambda event: event.kind == "MARGIN_CALL")
        assert [event.client for event in streamed if event.kind == "MARGIN_CALL"] == [""]

        # Once the exchange tops up, the retried run settles the same statement; a new run then
        # cuts off the next period, with no margin call.
        sandbox.custody_admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id="top-up", owner=EXCHANGE, asset="BTC", amount="1"
            ),
            metadata=bearer(ADMIN),
        )
        settled = sandbox.settle("settle-1")
        assert (settled.name, settled.state) == (waiting.name, bridge_pb2.SETTLEMENT_STATE_SUCCEEDED)
        following = sandbox.settle("settle-3")
        assert following.name != waiting.name
        assert following.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
        assert sandbox.custody_units("clients/acme")[(ALLOCATED, "BTC")] == BTC // 2
        custody_agrees_with_mirrors(sandbox)
        assert [record.kind for record in journal(sandbox).events].count("MARGIN_CALL") == 1
    finally:
        sandbox.stop()


def test_a_margin_call_is_not_repeated_after_a_crash_in_the_execute_step(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "seed", seed_with_small_settlement_account)
    crash = InProcessCrash()
    sandbox = start_sandbox(tmp_path, builder(crash))
    crash.running = sandbox.bridge
    try:
        assert sandbox.allocate("acme-usdt", "USDT", "100000").state == bridge_pb2.TRANSFER_STATE_CLEARED
        market_buy(sandbox, "acme-buy", "0.5")
        bridge_control(sandbox).SetFault(
            control_pb2.SetFaultRequest(
                request_id="arm-execute",
                fault=control_pb2.Fault(
                    crash_point=control_pb2.CrashPointFault(point="settlement.EXECUTE.after_call"),
                    trigger=control_pb2.FaultTrigger(first_calls=1),
                ),
            ),
            metadata=bearer(ADMIN),
        )
        with pytest.raises(grpc.RpcError):
            sandbox.settle("settle-1")
        assert crash.points == ["settlement.EXECUTE.after_call"]
        sandbox.bridge.stop()
        sandbox.bridge = start_bridge(sandbox.bridge_config, builder(crash))
        crash.running = sandbox.bridge

        waiting = sandbox.settle("settle-1")
        assert (waiting.state, waiting.step) == (
            bridge_pb2.SETTLEMENT_STATE_RUNNING,
            bridge_pb2.SETTLEMENT_STEP_EXECUTE,
        )
        assert [record.kind for record in journal(sandbox).events].count("MARGIN_CALL") == 1
    finally:
        sandbox.stop()


# --- 5. Freeze window --------------------------------------------------------------------------


def test_an_allocation_during_a_cycle_waits_for_the_cycle_and_then_clears(sandbox: Sandbox) -> None:
    assert sandbox.allocate("acme-usdt", "USDT", "100000").state == bridge_pb2.TRANSFER_STATE_CLEARED
    market_buy(sandbox, "acme-buy", "0.1")
    arm_latency(sandbox, CONFIRM_STATEMENT)
    with in_background("slow-cycle", lambda: sandbox.settle("settle-slow")) as cycles:
        # The cycle has executed and its ConfirmStatement is being held at the exchange.
        wait_until_fault_fired(sandbox)
        allocation = sandbox.allocate("acme-btc-during-cycle", "BTC", "2")
    cycle = cycles[0]
    assert isinstance(cycle, bridge_pb2.Settlement)
    assert allocation.state == bridge_pb2.TRANSFER_STATE_CLEARED
    assert cycle.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED and list(cycle.breaks) == []

    # The allocation was accepted while the cycle ran, and took its steps only after the cycle ended.
    events = [(record.kind, record.subject, record.attributes["state"]) for record in journal(sandbox).events]
    accepted = events.index(("ALLOCATION", allocation.name, "PENDING"))
    cycle_ended = events.index(("SETTLEMENT", cycle.name, "SUCCEEDED"))
    cleared = events.index(("ALLOCATION", allocation.name, "CLEARED"))
    assert accepted < cycle_ended < cleared, events
    custody = sandbox.custody_units("clients/acme")
    assert custody[(ALLOCATED, "BTC")] == 2 * BTC + BTC // 10, "the allocation plus the settled gain"
    custody_agrees_with_mirrors(sandbox)


def test_allocations_on_other_connections_do_not_wait_for_each_other(sandbox: Sandbox) -> None:
    connect_globex(sandbox)
    arm_latency(sandbox, RESERVE_ALLOCATION)
    with in_background("slow-allocation", lambda: sandbox.allocate("acme-slow", "BTC", "1")) as slow:
        wait_until_fault_fired(sandbox)
        quick = allocate_as(sandbox, GLOBEX, GLOBEX_CONNECTION, "globex-quick", "BTC", "1")
    held = slow[0]
    assert isinstance(held, bridge_pb2.Allocation)
    assert held.state == quick.state == bridge_pb2.TRANSFER_STATE_CLEARED
    # globex's allocation ran to its end while acme's was held at the exchange.
    events = [(record.subject, record.attributes["state"]) for record in journal(sandbox).events]
    assert events.index((quick.name, "CLEARED")) < events.index((held.name, "CLEARED")), events
    custody_agrees_with_mirrors(sandbox)
    custody_agrees_with_mirrors(sandbox, GLOBEX_CONNECTION)
