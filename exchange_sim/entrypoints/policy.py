"""Who may call what on the exchange, and the error domain of its rich errors."""

from __future__ import annotations

from oes.exchange.v1 import exchange_pb2
from service_kit.auth import ADMIN_ONLY, ANY_PRINCIPAL, BRIDGE_OR_ADMIN, AuthorizationPolicy, PrincipalKind
from service_kit.control import CONTROL_POLICY

ERROR_DOMAIN = "exchange.oes-sandbox.local"

TRADING_SERVICE_NAME = exchange_pb2.DESCRIPTOR.services_by_name["TradingService"].full_name
PARTNER_SERVICE_NAME = exchange_pb2.DESCRIPTOR.services_by_name["PartnerService"].full_name
ADMIN_SERVICE_NAME = exchange_pb2.DESCRIPTOR.services_by_name["ExchangeAdminService"].full_name

CLIENT_ONLY = frozenset({PrincipalKind.CLIENT})
CLIENT_OR_ADMIN = frozenset({PrincipalKind.CLIENT, PrincipalKind.ADMIN})

# Clients trade and move their traditional funds on their own account only (checked per
# request); the administrator may read any account but not trade or move funds for one; market
# data is public to every principal. The settlement network's operations are the bridge's (and
# the administrator's, for set-up and repair); the venue's administration is the admin's.
POLICY: AuthorizationPolicy = {
    TRADING_SERVICE_NAME: CLIENT_OR_ADMIN,
    f"/{TRADING_SERVICE_NAME}/PlaceOrder": CLIENT_ONLY,
    f"/{TRADING_SERVICE_NAME}/CancelOrder": CLIENT_ONLY,
    f"/{TRADING_SERVICE_NAME}/CancelAllOrders": CLIENT_ONLY,
    f"/{TRADING_SERVICE_NAME}/CreateDeposit": CLIENT_ONLY,
    f"/{TRADING_SERVICE_NAME}/CreateWithdrawal": CLIENT_ONLY,
    f"/{TRADING_SERVICE_NAME}/ListMarkets": ANY_PRINCIPAL,
    f"/{TRADING_SERVICE_NAME}/GetOrderBook": ANY_PRINCIPAL,
    f"/{TRADING_SERVICE_NAME}/StreamMarketData": ANY_PRINCIPAL,
    PARTNER_SERVICE_NAME: BRIDGE_OR_ADMIN,
    ADMIN_SERVICE_NAME: ADMIN_ONLY,
    **CONTROL_POLICY,
}
