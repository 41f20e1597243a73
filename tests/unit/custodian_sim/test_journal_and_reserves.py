"""The transfer journal (filters, pages) and the proof of reserves, over the fake store and SQLite."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from custodian_sim.domain.ledger import Transfer, TransferKind, balance_keys, post
from custodian_sim.domain.names import WORLD_CHAIN_ACCOUNT, ConnectionName, allocated_account
from custodian_sim.domain.reserves import AssetReserves, Liability, OwnerTotal, proof_of_reserves
from custodian_sim.service_layer.commands import TransferPage
from custodian_sim.service_layer.ports import TransferQuery
from custodian_sim.service_layer.unit_of_work import UnitOfWork
from service_kit.errors import ErrorCode, ServiceError
from tests.unit.custodian_sim.harness import ASSETS, START_MS, Harness
from tests.unit.custodian_sim.statement_factory import statement_content

OKX = "exchanges/okx-sim"
ACME = ConnectionName("acme", "okx-sim")
BTC = 100_000_000
USDT = 1_000_000
HOUR_MS = 3_600_000


def refused(action: Callable[[], object]) -> ServiceError:
    with pytest.raises(ServiceError) as raised:
        action()
    return raised.value


@pytest.fixture()
def journal(harness: Harness) -> Harness:
    """Deposits in hour 0, a lock in hour 1, an executed statement in hour 2."""
    for party in ("clients/acme", "clients/beta", OKX):
        harness.create_party(party)
    harness.register_key(OKX)
    harness.deposit("acme-btc", "clients/acme", "BTC", 10 * BTC)
    harness.deposit("acme-usdt", "clients/acme", "USDT", 500_000 * USDT)
    harness.deposit("beta-btc", "clients/beta", "BTC", 1 * BTC)
    harness.deposit("okx-btc", OKX, "BTC", 50 * BTC)
    harness.connect("acme", "okx-sim")
    harness.clock.advance(HOUR_MS)
    harness.lock(ACME, "a1", "BTC", 2 * BTC)
    harness.clock.advance(HOUR_MS)
    content = statement_content(OKX, 1, [(ACME.name, "BTC", "0.50000000")])
    harness.submit(content)
    harness.execute(content)
    return harness


def page(
    harness: Harness,
    owner: str,
    page_size: int = 100,
    *,
    account: str | None = None,
    asset: str | None = None,
    start_time_ms: int | None = None,
    end_time_ms: int | None = None,
    after_sequence: int = 0,
) -> TransferPage:
    query = TransferQuery(owner, account, asset, start_time_ms, end_time_ms, after_sequence)
    return harness.run(lambda service, uow: service.list_transfers(uow, query, page_size))


def ids(found: TransferPage) -> list[str]:
    return [posted.transfer.id for posted in found.transfers]


def test_an_owner_sees_every_transfer_touching_its_accounts_oldest_first(journal: Harness) -> None:
    found = page(journal, "clients/acme")

    assert ids(found) == [
        "deposits/acme-btc",
        "deposits/acme-usdt",
        "allocations/a1/lock",
        "exchanges/okx-sim/statements/1/transfers/acme/BTC",
    ]
    sequences = [posted.sequence for posted in found.transfers]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert found.next_after_sequence is None
    assert ids(page(journal, "clients/beta")) == ["deposits/beta-btc"]
    assert ids(page(journal, OKX)) == [
        "deposits/okx-btc",
        "exchanges/okx-sim/statements/1/transfers/acme/BTC",
    ]
    assert len(page(journal, "world").transfers) == 4


def test_filters_narrow_by_account_asset_and_time(journal: Harness) -> None:
    assert ids(page(journal, "clients/acme", account=allocated_account(ACME))) == [
        "allocations/a1/lock",
        "exchanges/okx-sim/statements/1/transfers/acme/BTC",
    ]
    assert ids(page(journal, "clients/acme", asset="USDT")) == ["deposits/acme-usdt"]
    assert ids(page(journal, "clients/acme", start_time_ms=START_MS + HOUR_MS)) == [
        "allocations/a1/lock",
        "exchanges/okx-sim/statements/1/transfers/acme/BTC",
    ]
    assert ids(
        page(journal, "clients/acme", start_time_ms=START_MS + HOUR_MS, end_time_ms=START_MS + 2 * HOUR_MS)
    ) == ["allocations/a1/lock"]
    assert ids(page(journal, "world", account=WORLD_CHAIN_ACCOUNT, asset="USDT")) == ["deposits/acme-usdt"]


def test_pages_follow_each_other_without_gaps_or_repeats(journal: Harness) -> None:
    seen: list[str] = []
    after_sequence = 0
    for _ in range(10):
        found = page(journal, "clients/acme", page_size=3, after_sequence=after_sequence)
        seen += ids(found)
        if found.next_after_sequence is None:
            break
        assert len(found.transfers) == 3
        after_sequence = found.next_after_sequence
    assert seen == ids(page(journal, "clients/acme"))
    # A page that ends exactly at the last transfer says so: no empty page follows.
    exact = page(journal, "clients/acme", page_size=4)
    assert len(exact.transfers) == 4 and exact.next_after_sequence is None


def test_the_journal_of_an_unknown_owner_is_not_found(journal: Harness) -> None:
    error = refused(lambda: page(journal, "clients/ghost"))
    assert (error.code, error.reason) == (ErrorCode.NOT_FOUND, "PARTY_NOT_FOUND")


def test_proof_of_reserves_balances_and_lists_what_each_party_is_owed(journal: Harness) -> None:
    report = journal.run(lambda service, uow: service.proof_of_reserves(uow))

    assert report.report_time_ms == journal.clock.now_ms()
    assert report.reserves == (
        AssetReserves(
            "BTC",
            held_on_chain_units=61 * BTC,
            owed_total_units=61 * BTC,
            liabilities=(
                Liability("clients/acme", 10 * BTC + BTC // 2),
                Liability("clients/beta", 1 * BTC),
                Liability(OKX, 50 * BTC - BTC // 2),
            ),
        ),
        AssetReserves(
            "USDT",
            held_on_chain_units=500_000 * USDT,
            owed_total_units=500_000 * USDT,
            liabilities=(Liability("clients/acme", 500_000 * USDT),),
        ),
    )
    assert all(reserves.difference_units == 0 for reserves in report.reserves)


def test_a_unit_not_accounted_for_shows_as_a_difference() -> None:
    reserves = proof_of_reserves(
        [
            OwnerTotal("world", "BTC", -10),
            OwnerTotal("clients/acme", "BTC", 7),
            OwnerTotal("exchanges/okx-sim", "BTC", 2),
            OwnerTotal("clients/beta", "BTC", 0),
        ]
    )
    assert reserves == [
        AssetReserves("BTC", 10, 9, (Liability("clients/acme", 7), Liability("exchanges/okx-sim", 2)))
    ]
    assert reserves[0].difference_units == 1


def test_linked_transfers_whose_last_member_fails_leave_none_posted(journal: Harness) -> None:
    before = journal.store.snapshot()
    linked = [
        Transfer("linked/1", "clients/beta/available", "clients/acme/available", "BTC", BTC // 2,
                 TransferKind.DEPOSIT, "test", START_MS),
        Transfer("linked/2", "clients/beta/available", "clients/acme/available", "BTC", BTC,
                 TransferKind.DEPOSIT, "test", START_MS),
    ]  # fmt: skip

    def post_one_by_one(uow: UnitOfWork) -> None:
        # The first member is appended before the second one fails: the unit of work must
        # still roll the first one back.
        for transfer in linked:
            balances = uow.ledger.balances(balance_keys([transfer]))
            posting = post([transfer], uow.ledger.transfers_by_id([transfer.id]), balances, ASSETS)
            uow.ledger.append(posting.transfers, posting.balances)

    error = refused(lambda: journal.run(lambda service, uow: post_one_by_one(uow)))

    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert journal.store.snapshot() == before
