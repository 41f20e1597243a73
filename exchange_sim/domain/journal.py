"""The venue's event journal: what each command changed, as ordered entries with decimal-string facts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from exchange_sim.domain.changes import VenueChanges
from exchange_sim.domain.market import Market
from exchange_sim.domain.orders import order_name
from service_kit.money import AssetScales


@dataclass(frozen=True)
class JournalEntry:
    """One journal event before it gets its sequence number and time: kind, subject, sorted facts."""

    kind: str
    subject: str
    attributes: tuple[tuple[str, str], ...]


def journal_entry(kind: str, subject: str, /, **attributes: str) -> JournalEntry:
    """A journal entry with its facts in name order, so the same change always reads the same."""
    return JournalEntry(kind, subject, tuple(sorted(attributes.items())))


def command_entries(
    changes: VenueChanges, assets: AssetScales, markets: Mapping[str, Market]
) -> list[JournalEntry]:
    """Every journal entry of one command, in a fixed order.

    Stated events first (state changes, deposits, faults), then accounts, orders in the order
    the command touched them, trades, balances by account and asset, funding, statements and
    claims. Sets are sorted so that the same command always journals the same bytes.
    """
    entries = list(changes.events)
    for account in changes.accounts:
        entries.append(
            journal_entry(
                "ACCOUNT_OPENED",
                account.name,
                custody_model=account.custody_model.value,
                connection=account.connection,
            )
        )
    for order in changes.orders.values():
        market = markets[order.market]
        entries.append(
            journal_entry(
                "ORDER",
                order_name(order.number),
                account=order.account,
                market=order.market,
                side=order.side.value,
                type=order.order_type.value,
                price="" if order.price_units is None else market.format_price(order.price_units),
                quantity=market.format_quantity(order.quantity_units),
                filled=market.format_quantity(order.filled_units),
                state=order.state.value,
                cancel_reason=order.cancel_reason,
                client_order_id=order.client_order_id,
            )
        )
    for trade in changes.trades:
        market = markets[trade.market]
        entries.append(
            journal_entry(
                "TRADE",
                f"trades/{trade.sequence}",
                market=trade.market,
                price=market.format_price(trade.price_units),
                quantity=market.format_quantity(trade.quantity_units),
                buy_order=order_name(trade.buy_order_number),
                sell_order=order_name(trade.sell_order_number),
                maker_order=order_name(trade.maker_order_number),
                buyer=trade.buyer_account,
                seller=trade.seller_account,
                buyer_fee=market.format_price(trade.buyer_fee_units),
                seller_fee=market.format_price(trade.seller_fee_units),
            )
        )
    for balance in sorted(changes.balances, key=lambda item: (item.account, item.asset)):
        entries.append(
            journal_entry(
                "BALANCE",
                balance.account,
                asset=balance.asset,
                mirror=assets.format(balance.asset, balance.mirror_units),
                unsettled=assets.format(balance.asset, balance.unsettled_units),
                held=assets.format(balance.asset, balance.held_units),
                pending_credit=assets.format(balance.asset, balance.pending_credit_units),
            )
        )
    for kind, operations in (("ALLOCATION", changes.allocations), ("DEALLOCATION", changes.deallocations)):
        for operation in operations.values():
            entries.append(
                journal_entry(
                    kind,
                    operation.funding_id,
                    connection=operation.connection,
                    asset=operation.asset,
                    amount=assets.format(operation.asset, operation.amount_units) if operation.asset else "0",
                    state=operation.state.value,
                )
            )
    for statement in changes.statements.values():
        entries.append(
            journal_entry(
                "STATEMENT",
                statement.name,
                state=statement.state.value,
                entries=str(len(statement.entries)),
                first_trade_sequence=str(statement.content.first_trade_sequence),
                last_trade_sequence=str(statement.content.last_trade_sequence),
                fault=statement.fault,
                void_reason=statement.void_reason,
            )
        )
    for claim in changes.claims:
        entries.append(
            journal_entry(
                "ESTATE_CLAIM",
                claim.account,
                asset=claim.asset,
                amount=assets.format(claim.asset, claim.amount_units),
                recovery_rate_bps=str(claim.recovery_rate_bps),
                recovered=assets.format(claim.asset, claim.recovered_units),
            )
        )
    return entries
