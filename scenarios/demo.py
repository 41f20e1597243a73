"""`oes demo`: a narrated happy path (deposit, allocate, trade, settle) against running services."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from oes.bridge.v1 import bridge_pb2
from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session, client_principal
from service_kit.auth import TokenAuthority

Snapshot = dict[tuple[str, str, str], str]


@dataclass(frozen=True)
class DemoPlan:
    """What the demo does; the defaults fit the demo world."""

    client: str = "acme"
    exchange: str = "okx-sim"
    deposit_btc: str = "1"
    allocation: tuple[tuple[str, str], ...] = (("BTC", "2"), ("USDT", "100000"))
    buy_btc: str = "1"


def run_demo(
    endpoints: Endpoints, authority: TokenAuthority, plan: DemoPlan, say: Callable[[str], None] = print
) -> bridge_pb2.Settlement:
    """Runs the happy path, narrating each step, and prints every party's balances before and after."""
    run_identifier = secrets.token_hex(4)
    admin = admin_session(endpoints, authority)
    client = SandboxSession(endpoints, authority, client_principal(plan.client))
    client_name = f"clients/{plan.client}"
    exchange_name = f"exchanges/{plan.exchange}"
    connection = f"{client_name}/connections/{plan.exchange}"
    try:
        before = take_snapshot(admin, client_name, exchange_name)

        say(
            f"1. A deposit of {plan.deposit_btc} BTC arrives on chain for {client_name} (custody, available)."
        )
        admin.custody_admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=f"demo-{run_identifier}/deposit",
                owner=client_name,
                asset="BTC",
                amount=plan.deposit_btc,
            )
        )
        for asset, amount in plan.allocation:
            say(
                f"2. {client_name} allocates {amount} {asset} to {plan.exchange}: the custodian locks it, "
                "the "
                "exchange mirrors it as trading credit."
            )
            allocation = client.network.CreateAllocation(
                bridge_pb2.CreateAllocationRequest(
                    request_id=f"demo-{run_identifier}/allocate/{asset}",
                    connection=connection,
                    asset=asset,
                    amount=amount,
                )
            ).allocation
            say(
                f"   {allocation.name}: {bridge_pb2.TransferState.Name(allocation.state)} {allocation.reason}"
            )

        say(f"3. {client_name} buys {plan.buy_btc} BTC at market on {plan.exchange}; nothing leaves custody.")
        order = client.trading.PlaceOrder(
            exchange_pb2.PlaceOrderRequest(
                request_id=f"demo-{run_identifier}/order",
                account=client_name,
                market="BTC-USDT",
                side=exchange_pb2.SIDE_BUY,
                type=exchange_pb2.ORDER_TYPE_MARKET,
                quantity=plan.buy_btc,
            )
        ).order
        for fill in order.fills:
            say(
                f"   fill #{fill.trade_sequence}: {fill.quantity} BTC at {fill.price} USDT, "
                f"fee {fill.fee} USDT"
            )

        say(
            "4. The bridge runs a settlement cycle: cutoff, signed statement, verification, execution at the "
            "custodian, confirmation at the exchange, reconciliation."
        )
        settlement = admin.bridge_admin.RunSettlementCycle(
            bridge_pb2.RunSettlementCycleRequest(
                request_id=f"demo-{run_identifier}/settle", exchange=exchange_name
            )
        ).settlement
        say(
            f"   {settlement.name}: {bridge_pb2.SettlementState.Name(settlement.state)}"
            f" {settlement.reason} statement {settlement.statement.name}"
        )
        for entry in settlement.statement.entries:
            say(f"   entry {entry.connection} {entry.asset} {entry.amount}")
        say(f"   reconciliation breaks: {len(settlement.breaks)}")

        after = take_snapshot(admin, client_name, exchange_name)
        say("")
        say(render_table(before, after))
        return settlement
    finally:
        client.close()
        admin.close()


def take_snapshot(admin: SandboxSession, client_name: str, exchange_name: str) -> Snapshot:
    """Reads every balance the demo shows: custody accounts and exchange books."""
    snapshot: Snapshot = {}
    for owner in (client_name, exchange_name):
        for balance in admin.custody.ListBalances(custodian_pb2.ListBalancesRequest(owner=owner)).balances:
            snapshot[("custodian", balance.account, balance.asset)] = balance.amount
    books = admin.trading.GetBalances(exchange_pb2.GetBalancesRequest(account=client_name))
    for book in books.balances:
        for column in ("mirror", "unsettled", "held", "available"):
            snapshot[("exchange", f"{client_name} {column}", book.asset)] = getattr(book, column)
    return snapshot


def render_table(before: Snapshot, after: Snapshot) -> str:
    """Formats two snapshots side by side, one row per party, account and asset."""
    rows = [("party", "account", "asset", "before", "after")]
    for key in sorted(set(before) | set(after)):
        rows.append((*key, before.get(key, "-"), after.get(key, "-")))
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.rjust(width) if column >= 3 else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
