"""TradingService: clients trade, fund traditional accounts and read their data; anyone reads market data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import grpc

from exchange_sim.domain.accounts import Account, client_of_account
from exchange_sim.domain.orders import OrderType, TimeInForce
from exchange_sim.domain.venue import Venue
from exchange_sim.entrypoints.messages import (
    SELF_TRADE_PREVENTIONS_FROM_PROTO,
    TIMES_IN_FORCE_FROM_PROTO,
    account_message,
    account_trade_message,
    balance_message,
    market_data_message,
    market_message,
    order_message,
    parse_enum,
    parse_order_name,
    parse_order_type,
    parse_side,
)
from exchange_sim.entrypoints.policy import TRADING_SERVICE_NAME
from exchange_sim.service_layer.venue_service import (
    ORDER_BOOK_DEPTH_MAX,
    PlaceOrderCommand,
    VenueService,
    balance_view,
)
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import current_principal, require_owner
from service_kit.errors import invalid_argument
from service_kit.idempotency import validate_request_id
from service_kit.money import AssetScales
from service_kit.paging import (
    decode_page_token,
    encode_page_token,
    parse_after_sequence,
    parse_page_size,
    query_fingerprint,
)
from service_kit.server import ServiceRegistration
from service_kit.streams import StreamSlots

WalletResponseT = TypeVar(
    "WalletResponseT", exchange_pb2.CreateDepositResponse, exchange_pb2.CreateWithdrawalResponse
)

ORDER_BOOK_DEPTH_DEFAULT = 10
CLIENT_ORDER_ID_LENGTH_MAX = 64
_CLIENT_ORDER_ID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-")
# Each open stream holds one server worker, so a few stay free for unary calls.
MARKET_DATA_STREAMS_MAX = 4
MARKET_DATA_BATCH_MAX = 500
MARKET_DATA_WAIT_S = 0.5
# A stream ends after this many waits (about a day at MARKET_DATA_WAIT_S); the client resumes it.
MARKET_DATA_ROUNDS_MAX = 200_000


class TradingServicer(exchange_pb2_grpc.TradingServiceServicer):
    """Thin: validate the request, call the service layer, build the response."""

    def __init__(self, service: VenueService, assets: AssetScales) -> None:
        self._service = service
        self._assets = assets
        self._stream_slots = StreamSlots(MARKET_DATA_STREAMS_MAX, "MARKET_DATA_STREAMS_EXHAUSTED")

    def ListMarkets(
        self, request: exchange_pb2.ListMarketsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ListMarketsResponse:
        return exchange_pb2.ListMarketsResponse(
            markets=[market_message(view) for view in self._service.list_markets()]
        )

    def GetOrderBook(
        self, request: exchange_pb2.GetOrderBookRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetOrderBookResponse:
        depth = request.depth or ORDER_BOOK_DEPTH_DEFAULT
        if not 1 <= depth <= ORDER_BOOK_DEPTH_MAX:
            raise invalid_argument(
                "DEPTH_OUT_OF_RANGE",
                "depth",
                f"must be 1 to {ORDER_BOOK_DEPTH_MAX} (0 means {ORDER_BOOK_DEPTH_DEFAULT})",
            )
        book = self._service.get_order_book(request.market, depth)
        market = book.market

        def levels(rows: tuple[tuple[int, int, int], ...]) -> list[exchange_pb2.PriceLevel]:
            return [
                exchange_pb2.PriceLevel(
                    price=market.format_price(price_units),
                    quantity=market.format_quantity(quantity_units),
                    order_count=order_count,
                )
                for price_units, quantity_units, order_count in rows
            ]

        return exchange_pb2.GetOrderBookResponse(
            market=market.name,
            bids=levels(book.bids),
            asks=levels(book.asks),
            last_trade_sequence=book.last_trade_sequence,
            market_data_sequence=book.market_data_sequence,
        )

    def PlaceOrder(
        self, request: exchange_pb2.PlaceOrderRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.PlaceOrderResponse:
        validate_request_id(request.request_id)
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        market = self._service.market(request.market)
        side = parse_side(request.side)
        order_type = parse_order_type(request.type)
        validate_client_order_id(request.client_order_id)
        self_trade_prevention = parse_enum(
            request.self_trade_prevention,
            SELF_TRADE_PREVENTIONS_FROM_PROTO,
            "self_trade_prevention",
            "SELF_TRADE_PREVENTION_INVALID",
        )
        price_units: int | None = None
        protection_price_units: int | None = None
        if order_type is OrderType.LIMIT:
            price_units = self._assets.parse(market.quote_asset, request.price, "price")
            market.check_price(price_units)
            time_in_force = (
                TimeInForce.GOOD_TILL_CANCELLED
                if request.time_in_force == exchange_pb2.TIME_IN_FORCE_UNSPECIFIED
                else parse_enum(
                    request.time_in_force, TIMES_IN_FORCE_FROM_PROTO, "time_in_force", "TIME_IN_FORCE_INVALID"
                )
            )
            if request.protection_price:
                raise invalid_argument(
                    "PROTECTION_PRICE_NOT_ALLOWED",
                    "protection_price",
                    "only market orders take a protection price",
                )
            if request.post_only and time_in_force is not TimeInForce.GOOD_TILL_CANCELLED:
                raise invalid_argument(
                    "POST_ONLY_NEEDS_GOOD_TILL_CANCELLED",
                    "post_only",
                    "a post-only order rests; it cannot be immediate-or-cancel or fill-or-kill",
                )
        else:
            if request.price:
                raise invalid_argument(
                    "PRICE_NOT_ALLOWED", "price", "a market order takes no price; leave it empty"
                )
            if request.time_in_force != exchange_pb2.TIME_IN_FORCE_UNSPECIFIED:
                raise invalid_argument(
                    "TIME_IN_FORCE_NOT_ALLOWED",
                    "time_in_force",
                    "market orders are immediate; leave it unset",
                )
            if request.post_only:
                raise invalid_argument("POST_ONLY_NOT_ALLOWED", "post_only", "a market order always takes")
            time_in_force = TimeInForce.IMMEDIATE_OR_CANCEL
            if request.protection_price:
                protection_price_units = self._assets.parse(
                    market.quote_asset, request.protection_price, "protection_price"
                )
                market.check_price(protection_price_units, "protection_price")
        quantity_units = self._assets.parse(market.base_asset, request.quantity, "quantity")
        market.check_quantity(quantity_units)
        if price_units is not None:
            notional_units = market.notional_units(price_units, quantity_units)
            market.check_notional(notional_units)
            market.check_min_notional(notional_units)
        command = PlaceOrderCommand(
            request.account,
            market.name,
            side,
            order_type,
            price_units,
            quantity_units,
            time_in_force,
            request.post_only,
            protection_price_units,
            self_trade_prevention,
            request.client_order_id,
        )
        return self._service.place_order(
            request,
            command,
            exchange_pb2.PlaceOrderResponse,
            lambda view: exchange_pb2.PlaceOrderResponse(order=order_message(view, market)),
        )

    def CancelOrder(
        self, request: exchange_pb2.CancelOrderRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CancelOrderResponse:
        validate_request_id(request.request_id)
        number = parse_order_name(request.name)
        return self._service.cancel_order(
            request,
            number,
            current_principal(),
            exchange_pb2.CancelOrderResponse,
            lambda view: exchange_pb2.CancelOrderResponse(
                order=order_message(view, self._service.market(view.market))
            ),
        )

    def CancelAllOrders(
        self, request: exchange_pb2.CancelAllOrdersRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CancelAllOrdersResponse:
        validate_request_id(request.request_id)
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        if request.market:
            self._service.market(request.market)
        return self._service.cancel_all_orders(
            request,
            request.account,
            request.market,
            exchange_pb2.CancelAllOrdersResponse,
            lambda views: exchange_pb2.CancelAllOrdersResponse(
                orders=[order_message(view, self._service.market(view.market)) for view in views]
            ),
        )

    def GetOrder(
        self, request: exchange_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetOrderResponse:
        if request.name:
            if request.client_order_id:
                raise invalid_argument(
                    "ORDER_NAMED_TWICE", "client_order_id", "give either name or account and client_order_id"
                )
            view = self._service.get_order(parse_order_name(request.name))
        else:
            if not request.client_order_id:
                raise invalid_argument(
                    "ORDER_NAME_INVALID", "name", "give the order name, or account and client_order_id"
                )
            client_of_account(request.account)
            validate_client_order_id(request.client_order_id)
            require_owner(current_principal(), request.account)
            view = self._service.get_order_by_client_id(request.account, request.client_order_id)
        require_owner(current_principal(), view.account)
        return exchange_pb2.GetOrderResponse(order=order_message(view, self._service.market(view.market)))

    def ListOrders(
        self, request: exchange_pb2.ListOrdersRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ListOrdersResponse:
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        page_size = parse_page_size(request.page_size)
        fingerprint = query_fingerprint("ListOrders", request.account, request.open_only, request.market)
        before_number = decode_page_token(request.page_token, fingerprint) or _POSITION_END
        views = self._service.list_orders(
            request.account, request.open_only, request.market, before_number, page_size + 1
        )
        response = exchange_pb2.ListOrdersResponse(
            orders=[order_message(view, self._service.market(view.market)) for view in views[:page_size]]
        )
        if len(views) > page_size:
            response.next_page_token = encode_page_token(views[page_size - 1].number, fingerprint)
        return response

    def ListTrades(
        self, request: exchange_pb2.ListTradesRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ListTradesResponse:
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        page_size = parse_page_size(request.page_size)
        fingerprint = query_fingerprint("ListTrades", request.account)
        before_sequence = decode_page_token(request.page_token, fingerprint) or _POSITION_END
        trades = self._service.list_trades(request.account, before_sequence, page_size + 1)
        response = exchange_pb2.ListTradesResponse(
            trades=[
                account_trade_message(trade, request.account, self._service.market(trade.market))
                for trade in trades[:page_size]
            ]
        )
        if len(trades) > page_size:
            response.next_page_token = encode_page_token(trades[page_size - 1].sequence, fingerprint)
        return response

    def GetBalances(
        self, request: exchange_pb2.GetBalancesRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetBalancesResponse:
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        return account_message(self._service.get_account(request.account), self._assets)

    def StreamMarketData(
        self, request: exchange_pb2.StreamMarketDataRequest, context: grpc.ServicerContext
    ) -> Iterator[exchange_pb2.StreamMarketDataResponse]:
        market = self._service.market(request.market)
        after_sequence = parse_after_sequence(request.after_sequence)
        feed = self._service.market_data
        if after_sequence == 0:
            after_sequence = feed.last_sequence(market.name)
        with self._stream_slots.slot():
            for _ in range(MARKET_DATA_ROUNDS_MAX):
                if not context.is_active():
                    return
                for event in feed.read(
                    market.name, after_sequence, MARKET_DATA_BATCH_MAX, MARKET_DATA_WAIT_S
                ):
                    yield market_data_message(event, market)
                    after_sequence = event.sequence

    def CreateDeposit(
        self, request: exchange_pb2.CreateDepositRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CreateDepositResponse:
        return self._wallet_command(
            "CreateDeposit", request, exchange_pb2.CreateDepositResponse, Venue.deposit
        )

    def CreateWithdrawal(
        self, request: exchange_pb2.CreateWithdrawalRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CreateWithdrawalResponse:
        return self._wallet_command(
            "CreateWithdrawal", request, exchange_pb2.CreateWithdrawalResponse, Venue.withdraw
        )

    def _wallet_command(
        self,
        method: str,
        request: exchange_pb2.CreateDepositRequest | exchange_pb2.CreateWithdrawalRequest,
        response_type: type[WalletResponseT],
        move: Callable[[Venue, str, str, int, int], Account],
    ) -> WalletResponseT:
        """A deposit or withdrawal of a traditional account: the response carries the asset's balance."""
        validate_request_id(request.request_id)
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        amount_units = self._parse_amount(request.asset, request.amount)

        def apply(venue: Venue, now_ms: int) -> WalletResponseT:
            account = move(venue, request.account, request.asset, amount_units, now_ms)
            return response_type(
                balance=balance_message(
                    balance_view(account.balance(request.asset)), self._assets, traditional=True
                )
            )

        return self._service.run_command(method, request, response_type, apply)

    def _parse_amount(self, asset: str, amount: str) -> int:
        self._assets.scale(asset, "asset")
        return self._assets.parse(asset, amount, "amount")


# A page position past every order number and trade sequence: the first page starts there.
_POSITION_END = 2**63 - 1


def validate_client_order_id(client_order_id: str) -> None:
    """Refuses a client order id longer than 64 characters or outside letters, digits and `._:-`."""
    if (
        len(client_order_id) > CLIENT_ORDER_ID_LENGTH_MAX
        or not set(client_order_id) <= _CLIENT_ORDER_ID_ALPHABET
    ):
        raise invalid_argument(
            "CLIENT_ORDER_ID_INVALID",
            "client_order_id",
            f"must be at most {CLIENT_ORDER_ID_LENGTH_MAX} letters, digits and ._:- (or empty)",
        )


def trading_registration(servicer: TradingServicer) -> ServiceRegistration:
    """Registers the trading service on a server."""
    return ServiceRegistration(
        TRADING_SERVICE_NAME,
        lambda server: exchange_pb2_grpc.add_TradingServiceServicer_to_server(servicer, server),
    )
