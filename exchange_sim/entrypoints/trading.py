"""TradingService: clients place and cancel orders and read their balances; anyone reads market data."""

from __future__ import annotations

import grpc

from exchange_sim.domain.accounts import client_of_account
from exchange_sim.domain.orders import OrderType
from exchange_sim.entrypoints.messages import (
    balance_message,
    market_message,
    order_message,
    parse_order_name,
    parse_order_type,
    parse_side,
)
from exchange_sim.entrypoints.policy import TRADING_SERVICE_NAME
from exchange_sim.service_layer.venue_service import ORDER_BOOK_DEPTH_MAX, PlaceOrderCommand, VenueService
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.auth import current_principal, require_owner
from service_kit.errors import invalid_argument
from service_kit.idempotency import validate_request_id
from service_kit.money import AssetScales
from service_kit.server import ServiceRegistration

ORDER_BOOK_DEPTH_DEFAULT = 10


class TradingServicer(exchange_pb2_grpc.TradingServiceServicer):
    """Thin: validate the request, call the service layer, build the response."""

    def __init__(self, service: VenueService, assets: AssetScales) -> None:
        self._service = service
        self._assets = assets

    def ListMarkets(
        self, request: exchange_pb2.ListMarketsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ListMarketsResponse:
        return exchange_pb2.ListMarketsResponse(
            markets=[market_message(market) for market in self._service.list_markets()]
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
        price_units: int | None = None
        if order_type is OrderType.LIMIT:
            price_units = self._assets.parse(market.quote_asset, request.price, "price")
            market.check_price(price_units)
        elif request.price:
            raise invalid_argument(
                "PRICE_NOT_ALLOWED", "price", "a market order takes no price; leave it empty"
            )
        quantity_units = self._assets.parse(market.base_asset, request.quantity, "quantity")
        market.check_quantity(quantity_units)
        if price_units is not None:
            market.check_notional(market.notional_units(price_units, quantity_units))
        command = PlaceOrderCommand(
            request.account, market.name, side, order_type, price_units, quantity_units
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

    def GetOrder(
        self, request: exchange_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetOrderResponse:
        number = parse_order_name(request.name)
        view = self._service.get_order(number)
        require_owner(current_principal(), view.account)
        return exchange_pb2.GetOrderResponse(order=order_message(view, self._service.market(view.market)))

    def GetBalances(
        self, request: exchange_pb2.GetBalancesRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.GetBalancesResponse:
        client_of_account(request.account)
        require_owner(current_principal(), request.account)
        return exchange_pb2.GetBalancesResponse(
            account=request.account,
            balances=[
                balance_message(view, self._assets) for view in self._service.get_balances(request.account)
            ],
        )


def trading_registration(servicer: TradingServicer) -> ServiceRegistration:
    """Registers the trading service on a server."""
    return ServiceRegistration(
        TRADING_SERVICE_NAME,
        lambda server: exchange_pb2_grpc.add_TradingServiceServicer_to_server(servicer, server),
    )
