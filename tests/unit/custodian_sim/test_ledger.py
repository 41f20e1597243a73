"""Domain rules of the double-entry ledger: balanced, immutable, unique ids, no overdraft."""

from __future__ import annotations

import pytest

from custodian_sim.domain.ledger import Transfer, TransferKind, balance_keys, post
from custodian_sim.domain.names import (
    WORLD_CHAIN_ACCOUNT,
    ConnectionName,
    account_owner,
    allocated_account,
    available_account,
)
from service_kit.errors import ErrorCode, ServiceError
from service_kit.money import AssetScales

ASSETS = AssetScales({"BTC": 8, "USDT": 6})
ACME_AVAILABLE = available_account("acme")
ACME_ALLOCATED = allocated_account(ConnectionName("acme", "okx-sim"))


def transfer(
    transfer_id: str,
    from_account: str,
    to_account: str,
    amount_units: int,
    asset: str = "BTC",
    create_time_ms: int = 1,
) -> Transfer:
    return Transfer(
        transfer_id,
        from_account,
        to_account,
        asset,
        amount_units,
        TransferKind.DEPOSIT,
        "test",
        create_time_ms,
    )


def test_a_deposit_moves_units_from_the_chain_and_balances_sum_to_zero() -> None:
    deposit = transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10)

    posting = post([deposit], {}, {}, ASSETS)

    assert posting.transfers == (deposit,)
    assert posting.balances == {(WORLD_CHAIN_ACCOUNT, "BTC"): -10, (ACME_AVAILABLE, "BTC"): 10}
    assert sum(posting.balances.values()) == 0


def test_linked_transfers_apply_in_order_against_running_balances() -> None:
    transfers = [
        transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10),
        transfer("l1", ACME_AVAILABLE, ACME_ALLOCATED, 7),
        transfer("u1", ACME_ALLOCATED, ACME_AVAILABLE, 2),
    ]

    posting = post(transfers, {}, {}, ASSETS)

    assert posting.balances[(ACME_AVAILABLE, "BTC")] == 5
    assert posting.balances[(ACME_ALLOCATED, "BTC")] == 5
    assert posting.balances[(WORLD_CHAIN_ACCOUNT, "BTC")] == -10


def test_retrying_a_transfer_id_with_the_same_content_is_a_no_op_even_later() -> None:
    first = transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10, create_time_ms=1)
    retry = transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10, create_time_ms=999)

    posting = post([retry], {"d1": first}, {(ACME_AVAILABLE, "BTC"): 10}, ASSETS)

    assert posting.is_empty
    assert posting.balances == {}


@pytest.mark.parametrize(
    "changed",
    [
        transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 11),
        transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10, asset="USDT"),
        transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_ALLOCATED, 10),
    ],
)
def test_reusing_a_transfer_id_with_other_content_is_refused(changed: Transfer) -> None:
    first = transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10)

    with pytest.raises(ServiceError) as raised:
        post([changed], {"d1": first}, {}, ASSETS)

    assert (raised.value.code, raised.value.reason) == (ErrorCode.ALREADY_EXISTS, "TRANSFER_ID_CONFLICT")


def test_a_conflicting_id_inside_one_posting_is_refused() -> None:
    with pytest.raises(ServiceError) as raised:
        post(
            [
                transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10),
                transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 12),
            ],
            {},
            {},
            ASSETS,
        )
    assert raised.value.reason == "TRANSFER_ID_CONFLICT"


def test_an_overdraft_is_refused_with_account_asset_balance_and_amount() -> None:
    lock = transfer("l1", ACME_AVAILABLE, ACME_ALLOCATED, 150_000_000)

    with pytest.raises(ServiceError) as raised:
        post([lock], {}, {(ACME_AVAILABLE, "BTC"): 100_000_000}, ASSETS)

    error = raised.value
    assert (error.code, error.reason) == (ErrorCode.FAILED_PRECONDITION, "INSUFFICIENT_BALANCE")
    assert ACME_AVAILABLE in error.message
    assert "1.00000000 BTC" in error.message
    assert "1.50000000 BTC" in error.message
    assert dict(error.metadata) == {
        "account": ACME_AVAILABLE,
        "asset": "BTC",
        "balance": "1.00000000",
        "amount": "1.50000000",
    }


def test_a_later_overdraft_refuses_the_whole_linked_posting() -> None:
    with pytest.raises(ServiceError) as raised:
        post(
            [
                transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10),
                transfer("l1", ACME_AVAILABLE, ACME_ALLOCATED, 11),
            ],
            {},
            {},
            ASSETS,
        )
    assert raised.value.reason == "INSUFFICIENT_BALANCE"


def test_only_the_chain_goes_negative() -> None:
    posting = post([transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 5)], {}, {}, ASSETS)
    assert posting.balances[(WORLD_CHAIN_ACCOUNT, "BTC")] == -5
    with pytest.raises(ServiceError):
        post([transfer("w1", ACME_AVAILABLE, WORLD_CHAIN_ACCOUNT, 6)], {}, posting.balances, ASSETS)


@pytest.mark.parametrize("amount_units", [0, -1])
def test_a_transfer_moves_a_positive_amount(amount_units: int) -> None:
    with pytest.raises(AssertionError):
        transfer("t", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, amount_units)


def test_transfers_are_immutable() -> None:
    deposit = transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10)
    with pytest.raises(AttributeError):
        deposit.amount_units = 11  # type: ignore[misc]


def test_balance_keys_and_owners() -> None:
    keys = balance_keys([transfer("d1", WORLD_CHAIN_ACCOUNT, ACME_AVAILABLE, 10, asset="USDT")])
    assert keys == {(WORLD_CHAIN_ACCOUNT, "USDT"), (ACME_AVAILABLE, "USDT")}
    assert account_owner(ACME_ALLOCATED) == "clients/acme"
    assert account_owner("exchanges/okx-sim/settlement") == "exchanges/okx-sim"
    assert account_owner(WORLD_CHAIN_ACCOUNT) == "world"
