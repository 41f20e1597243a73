"""The audit log: every state change and every refused statement, with who did it and why."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from custodian_sim.domain.audit import AuditRecord
from custodian_sim.domain.names import ConnectionName
from custodian_sim.service_layer.commands import RegisterExchangeKey, UnlockAllocation
from service_kit.call_context import CallContext, enter_call, exit_call
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import ASSETS, Harness
from tests.unit.custodian_sim.statement_factory import (
    exchange_private_key,
    exchange_public_key,
    statement_content,
)
from tests.unit.custodian_sim.stores import SqliteStore

OKX = "exchanges/okx-sim"
ACME = ConnectionName("acme", "okx-sim")
BTC = 100_000_000
BUY_HALF = [(ACME.name, "BTC", "0.50000000")]


def refused(action: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


def as_call(principal: str, method: str, request_id: str) -> Callable[[Callable[[], object]], object]:
    """Runs an action as if the interceptor were serving `method` for `principal`."""

    def run(action: Callable[[], object]) -> object:
        token = enter_call(CallContext(principal, method, request_id))
        try:
            return action()
        finally:
            exit_call(token)

    return run


def changes(records: list[AuditRecord]) -> list[tuple[str, str, str, str]]:
    return [(record.resource, record.before, record.after, record.owner) for record in records]


@pytest.fixture()
def world(harness: Harness) -> Iterator[Harness]:
    for party in ("clients/acme", OKX):
        harness.create_party(party)
    harness.register_key(OKX)
    harness.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    harness.deposit("okx-btc", OKX, "BTC", 10 * BTC)
    harness.connect("acme", "okx-sim")
    harness.lock(ACME, "a1", "BTC", 2 * BTC)
    yield harness


def test_every_state_change_is_recorded_in_order(world: Harness) -> None:
    content = statement_content(OKX, 1, BUY_HALF)
    world.submit(content)
    world.execute(content)
    command = UnlockAllocation(ACME, "u1", "BTC", BTC)
    world.run(lambda service, uow: service.unlock_allocation(uow, command))
    rotate = RegisterExchangeKey(OKX, exchange_public_key(OKX, seed=2))
    world.run(lambda service, uow: service.register_exchange_key(uow, rotate))

    records = world.audit_records()

    assert [record.sequence for record in records] == list(range(1, len(records) + 1))
    old_key, new_key = records[2].after, records[-1].after
    assert changes(records) == [
        ("clients/acme", "", "REGISTERED", "clients/acme"),
        (OKX, "", "REGISTERED", OKX),
        (f"{OKX}/key", "", old_key, OKX),
        (
            "deposits/acme-btc",
            "",
            "DEPOSIT 10.00000000 BTC world/chain -> clients/acme/available",
            "clients/acme",
        ),
        ("deposits/okx-btc", "", "DEPOSIT 10.00000000 BTC world/chain -> exchanges/okx-sim/settlement", OKX),
        (ACME.name, "", "PENDING", "clients/acme"),
        (ACME.name, "PENDING", "ACTIVE", "clients/acme"),
        (
            "allocations/a1/lock",
            "",
            f"ALLOCATION_LOCK 2.00000000 BTC clients/acme/available -> {ACME.name}/allocated",
            "clients/acme",
        ),
        (f"{ACME.name}/allocations/a1", "", "RESERVED", "clients/acme"),
        (f"{OKX}/statements/1", "", "PENDING", OKX),
        (f"{OKX}/statements/1", "PENDING", "SUCCEEDED", OKX),
        (f"{OKX}/statements/1/entries/acme/BTC", "PENDING", "SETTLED", "clients/acme"),
        (
            "unlocks/u1",
            "",
            f"ALLOCATION_UNLOCK 1.00000000 BTC {ACME.name}/allocated -> clients/acme/available",
            "clients/acme",
        ),
        (f"{OKX}/key", old_key, new_key, OKX),
    ]
    assert old_key.startswith("KEY ") and new_key.startswith("KEY ") and old_key != new_key


def test_records_name_the_principal_method_and_request_of_the_call(world: Harness) -> None:
    as_call("bridge", "LockAllocation", "lock-7")(lambda: world.lock(ACME, "a7", "BTC", BTC))
    world.lock(ACME, "a8", "BTC", BTC)

    # Each lock leaves two records: its transfer's and its allocation's.
    called, _, uncalled, _ = world.audit_records()[-4:]

    assert (called.principal, called.method, called.request_id) == ("bridge", "LockAllocation", "lock-7")
    assert called.record_time_ms == world.clock.now_ms()
    # Outside any RPC (timers, start-up) the system did it.
    assert (uncalled.principal, uncalled.method, uncalled.request_id) == ("system", "", "")


def test_retries_and_no_op_transitions_add_no_record(world: Harness) -> None:
    count = len(world.audit_records())
    world.create_party("clients/acme")
    world.register_key(OKX)
    world.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    world.connect("acme", "okx-sim")
    world.lock(ACME, "a1", "BTC", 2 * BTC)
    assert len(world.audit_records()) == count


@pytest.mark.parametrize("attack", ["forged", "replayed_nonce", "changed_content"])
def test_a_refused_statement_leaves_no_transfer_and_one_audit_record(world: Harness, attack: str) -> None:
    first = statement_content(OKX, 1, BUY_HALF)
    world.submit(first)
    world.execute(first)
    if attack == "forged":
        bad = statement_content(OKX, 2, BUY_HALF)
        signature: bytes | None = exchange_private_key(OKX, seed=9).sign(bad.canonical_bytes())
        expected = (ErrorCode.INVALID_ARGUMENT, "STATEMENT_SIGNATURE_INVALID", "")
    elif attack == "replayed_nonce":
        bad = statement_content(OKX, 2, BUY_HALF, nonce=first.nonce)
        signature = None
        expected = (ErrorCode.ALREADY_EXISTS, "NONCE_REUSED", "")
    else:
        bad = statement_content(OKX, 1, [(ACME.name, "BTC", "1.50000000")])
        signature = None
        expected = (ErrorCode.ALREADY_EXISTS, "STATEMENT_CONFLICT", "SUCCEEDED")
    ledger_before = world.store.snapshot()
    count = len(world.audit_records())

    error = refused(
        lambda: as_call("bridge", "SubmitStatement", "attack")(lambda: world.submit(bad, signature))
    )

    assert (error.code, error.reason) == expected[:2]
    assert world.store.snapshot() == ledger_before
    records = world.audit_records()
    assert len(records) == count + 1
    record = records[-1]
    assert (record.resource, record.before, record.after, record.owner) == (
        bad.name,
        expected[2],
        f"REFUSED: {expected[1]}",
        OKX,
    )
    assert (record.principal, record.method, record.request_id) == ("bridge", "SubmitStatement", "attack")


def test_a_refused_resolution_is_recorded_and_a_statement_nobody_submitted_is_not(world: Harness) -> None:
    # Resolving an entry of a statement that has not executed is an illegal transition.
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "20.00000000")])
    world.submit(content)
    count = len(world.audit_records())

    error = refused(lambda: world.resolve(content, ACME, "BTC"))
    unknown = refused(lambda: world.execute(statement_content(OKX, 5, [])))

    assert error.reason == "STATEMENT_NOT_EXECUTED"
    assert unknown.code is ErrorCode.NOT_FOUND
    assert changes(world.audit_records()[count:]) == [
        (content.name, "PENDING", "REFUSED: STATEMENT_NOT_EXECUTED", OKX)
    ]


def test_records_are_listed_after_a_sequence_and_per_owner(world: Harness) -> None:
    def listed(after_sequence: int, limit: int, owner: str | None) -> list[int]:
        records = world.run(
            lambda service, uow: service.list_audit_records(uow, after_sequence, limit, owner)
        )
        return [record.sequence for record in records]

    everything = world.audit_records()
    acme = [record.sequence for record in everything if record.owner == "clients/acme"]

    assert listed(0, 1000, None) == [record.sequence for record in everything]
    assert listed(3, 2, None) == [4, 5]
    assert listed(0, 1000, "clients/acme") == acme
    assert listed(acme[1], 1, "clients/acme") == [acme[2]]
    assert listed(len(everything), 10, None) == []


def test_stored_audit_records_cannot_be_updated(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "custodian.sqlite3", ASSETS)
    try:
        harness = Harness(store)
        harness.create_party("clients/acme")
        connection = store.database.connection()
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE audit_records SET after = 'FORGED'")
        assert connection.execute("SELECT after FROM audit_records").fetchall() == [("REGISTERED",)]
    finally:
        store.close()
