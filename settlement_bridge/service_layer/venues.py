"""The venues one bridge drives: its custodian and the exchanges it serves, by exchange id."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from service_kit.idempotency import REQUEST_ID_PATTERN
from settlement_bridge.service_layer.ports import CustodianPort, ExchangePort, exchange_not_found

# request_ids longer than this are replaced by a digest (the venues accept at most 128).
REQUEST_ID_LENGTH_MAX = 128


@dataclass(frozen=True)
class Venues:
    """The custodian and every exchange the bridge serves."""

    custodian: CustodianPort
    exchanges: Mapping[str, ExchangePort]

    def exchange(self, exchange_id: str) -> ExchangePort:
        """Returns the port of one exchange, or NOT_FOUND EXCHANGE_NOT_FOUND."""
        exchange = self.exchanges.get(exchange_id)
        if exchange is None:
            raise exchange_not_found(exchange_id)
        return exchange


def derived_request_id(key: str) -> str:
    """A request_id fixed by `key`: the key itself when a venue accepts it, else its digest."""
    if len(key) <= REQUEST_ID_LENGTH_MAX and REQUEST_ID_PATTERN.fullmatch(key):
        return key
    return f"sha256:{hashlib.sha256(key.encode()).hexdigest()}"
