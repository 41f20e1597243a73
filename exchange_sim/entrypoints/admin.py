"""ExchangeAdminService: traditional accounts, the venue's state, and the faults scenarios inject."""

from __future__ import annotations

from pathlib import Path

import grpc
from google.protobuf import duration_pb2

from exchange_sim.domain.accounts import client_of_account
from exchange_sim.domain.market import BASIS_POINTS_PER_WHOLE
from exchange_sim.domain.price_paths import (
    PriceFault,
    ScriptedPoint,
    ShockFault,
    StaleFault,
    parse_change_percent,
    parse_price_csv,
)
from exchange_sim.domain.pricing import PricePathKind, PricePathSpec
from exchange_sim.domain.statements import (
    PARTS_PER_MILLION,
    STATEMENTS_PER_FAULT_MAX,
    StatementFault,
    StatementFaultKind,
)
from exchange_sim.domain.venue import Venue, VenueState
from exchange_sim.entrypoints.messages import (
    CUSTODY_MODELS_TO_PROTO,
    STATEMENT_FAULT_KINDS_FROM_PROTO,
    STATEMENT_FAULT_KINDS_TO_PROTO,
    VENUE_STATES_FROM_PROTO,
    market_message,
    parse_enum,
    venue_message,
)
from exchange_sim.entrypoints.policy import ADMIN_SERVICE_NAME
from exchange_sim.service_layer.venue_service import MarketView, VenueService
from oes.exchange.v1 import exchange_pb2, exchange_pb2_grpc
from service_kit.errors import invalid_argument
from service_kit.idempotency import validate_request_id
from service_kit.money import parse_units
from service_kit.server import ServiceRegistration
from service_kit.timestamps import duration_ms, to_timestamp

# A stale price or a random-walk step longer than ten years is surely a unit mistake.
DURATION_MS_MAX = 10 * 366 * 24 * 3600 * 1000
VOLATILITY_BPS_MAX = 1000
SCRIPTED_POINTS_MAX = 1000
# A CSV price file larger than this is not a sandbox price path.
CSV_FILE_BYTES_MAX = 64 * 1024 * 1024


class ExchangeAdminServicer(exchange_pb2_grpc.ExchangeAdminServiceServicer):
    """Thin: validate the request, call the venue, build the response."""

    def __init__(self, service: VenueService) -> None:
        self._service = service

    def CreateAccount(
        self, request: exchange_pb2.CreateAccountRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.CreateAccountResponse:
        validate_request_id(request.request_id)
        client_of_account(request.account)
        if request.custody_model != exchange_pb2.CUSTODY_MODEL_TRADITIONAL:
            raise invalid_argument(
                "CUSTODY_MODEL_INVALID",
                "custody_model",
                "must be CUSTODY_MODEL_TRADITIONAL; the bridge opens OES accounts with CreateConnection",
            )

        def open_account(venue: Venue, now_ms: int) -> exchange_pb2.CreateAccountResponse:
            account = venue.open_traditional_account(request.account, now_ms)
            return exchange_pb2.CreateAccountResponse(
                account=account.name, custody_model=CUSTODY_MODELS_TO_PROTO[account.custody_model]
            )

        return self._service.run_command(
            "CreateAccount", request, exchange_pb2.CreateAccountResponse, open_account
        )

    def SetVenueState(
        self, request: exchange_pb2.SetVenueStateRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.SetVenueStateResponse:
        validate_request_id(request.request_id)
        state = parse_enum(request.state, VENUE_STATES_FROM_PROTO, "state", "VENUE_STATE_INVALID")
        if not 0 <= request.recovery_rate_bps <= BASIS_POINTS_PER_WHOLE:
            raise invalid_argument(
                "RECOVERY_RATE_INVALID", "recovery_rate_bps", "must be 0 to 10000 basis points"
            )
        if request.recovery_rate_bps and state is not VenueState.INSOLVENT:
            raise invalid_argument(
                "RECOVERY_RATE_NOT_ALLOWED",
                "recovery_rate_bps",
                "only an insolvent venue has a recovery rate",
            )

        def set_state(venue: Venue, now_ms: int) -> exchange_pb2.SetVenueStateResponse:
            venue.set_state(state, request.recovery_rate_bps, now_ms)
            return exchange_pb2.SetVenueStateResponse(venue=venue_message(self._service.venue_view(venue)))

        return self._service.run_command(
            "SetVenueState", request, exchange_pb2.SetVenueStateResponse, set_state
        )

    def SetStatementFault(
        self, request: exchange_pb2.SetStatementFaultRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.SetStatementFaultResponse:
        validate_request_id(request.request_id)
        fault = _parse_statement_fault(request.fault)

        def arm(venue: Venue, now_ms: int) -> exchange_pb2.SetStatementFaultResponse:
            venue.arm_statement_fault(fault, now_ms)
            return exchange_pb2.SetStatementFaultResponse(
                faults=[_statement_fault_message(item) for item in venue.statement_ledger.faults]
            )

        return self._service.run_command(
            "SetStatementFault", request, exchange_pb2.SetStatementFaultResponse, arm
        )

    def SetPriceFault(
        self, request: exchange_pb2.SetPriceFaultRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.SetPriceFaultResponse:
        validate_request_id(request.request_id)
        market = self._service.market(request.fault.market)
        message = request.fault
        if message.HasField("start_time"):
            raise invalid_argument(
                "START_TIME_NOT_ALLOWED", "fault.start_time", "a price fault starts now; leave it unset"
            )
        if message.kind == exchange_pb2.PRICE_FAULT_KIND_SHOCK:
            change_ppm = parse_change_percent(message.shock_percent, "fault.shock_percent")
            if message.HasField("duration"):
                raise invalid_argument(
                    "DURATION_NOT_ALLOWED", "fault.duration", "a shock lasts until cleared"
                )

            def fault_at(now_ms: int) -> PriceFault:
                return ShockFault(now_ms, change_ppm)

        elif message.kind == exchange_pb2.PRICE_FAULT_KIND_STALE:
            stale_ms = _parse_duration(message.duration, "fault.duration")
            if message.shock_percent:
                raise invalid_argument(
                    "SHOCK_PERCENT_NOT_ALLOWED", "fault.shock_percent", "only a shock has a percent"
                )

            def fault_at(now_ms: int) -> PriceFault:
                return StaleFault(now_ms, now_ms + stale_ms)

        else:
            raise invalid_argument(
                "PRICE_FAULT_KIND_INVALID",
                "fault.kind",
                "must be PRICE_FAULT_KIND_SHOCK or PRICE_FAULT_KIND_STALE",
            )

        def add(venue: Venue, now_ms: int) -> exchange_pb2.SetPriceFaultResponse:
            listing = venue.add_price_fault(market.name, fault_at(now_ms), now_ms)
            return exchange_pb2.SetPriceFaultResponse(
                market=market_message(MarketView(listing.market, listing.reference_price_units))
            )

        return self._service.run_command("SetPriceFault", request, exchange_pb2.SetPriceFaultResponse, add)

    def SetPricePath(
        self, request: exchange_pb2.SetPricePathRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.SetPricePathResponse:
        validate_request_id(request.request_id)
        market = self._service.market(request.market)
        spec = _parse_price_path(request.path, market.quote_scale, market.tick_units)

        def set_path(venue: Venue, now_ms: int) -> exchange_pb2.SetPricePathResponse:
            listing = venue.set_price_path(market.name, spec, now_ms)
            return exchange_pb2.SetPricePathResponse(
                market=market_message(MarketView(listing.market, listing.reference_price_units))
            )

        return self._service.run_command("SetPricePath", request, exchange_pb2.SetPricePathResponse, set_path)

    def ListVenueFaults(
        self, request: exchange_pb2.ListVenueFaultsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ListVenueFaultsResponse:
        now_ms = self._service.now_ms()

        def read(venue: Venue) -> exchange_pb2.ListVenueFaultsResponse:
            response = exchange_pb2.ListVenueFaultsResponse(
                statement_faults=[_statement_fault_message(fault) for fault in venue.statement_ledger.faults]
            )
            for name, listing in sorted(venue.listings.items()):
                for fault in listing.pricing.active_faults(now_ms):
                    response.price_faults.append(_price_fault_message(name, fault))
            return response

        return self._service.read_venue(read)

    def ClearVenueFaults(
        self, request: exchange_pb2.ClearVenueFaultsRequest, context: grpc.ServicerContext
    ) -> exchange_pb2.ClearVenueFaultsResponse:
        validate_request_id(request.request_id)
        return self._service.run_command(
            "ClearVenueFaults",
            request,
            exchange_pb2.ClearVenueFaultsResponse,
            lambda venue, now_ms: exchange_pb2.ClearVenueFaultsResponse(
                cleared_count=venue.clear_venue_faults(now_ms)
            ),
        )


def _parse_duration(duration: duration_pb2.Duration, field_name: str) -> int:
    milliseconds = duration_ms(duration)
    if not 0 < milliseconds <= DURATION_MS_MAX:
        raise invalid_argument(
            "DURATION_OUT_OF_RANGE", field_name, "must be positive and at most ten years, e.g. '600s'"
        )
    return milliseconds


def _parse_statement_fault(message: exchange_pb2.StatementFault) -> StatementFault:
    kind = parse_enum(
        message.kind, STATEMENT_FAULT_KINDS_FROM_PROTO, "fault.kind", "STATEMENT_FAULT_KIND_INVALID"
    )
    count = message.statements_count or 1
    if not 1 <= count <= STATEMENTS_PER_FAULT_MAX:
        raise invalid_argument(
            "STATEMENTS_COUNT_INVALID",
            "fault.statements_count",
            f"must be 1 to {STATEMENTS_PER_FAULT_MAX} (0 means 1)",
        )
    factor_ppm = 0
    if kind is StatementFaultKind.OVER_CLAIM:
        # The factor is a decimal with up to six places: parts per million, as integers.
        factor_ppm = parse_units(message.factor, 6, "fault.factor")
        if factor_ppm <= PARTS_PER_MILLION or factor_ppm > 1000 * PARTS_PER_MILLION:
            raise invalid_argument(
                "FACTOR_INVALID", "fault.factor", "an over-claim factor is above 1 and at most 1000"
            )
    elif message.factor:
        raise invalid_argument("FACTOR_NOT_ALLOWED", "fault.factor", "only an over-claim has a factor")
    return StatementFault(kind, factor_ppm, count)


def _statement_fault_message(fault: StatementFault) -> exchange_pb2.StatementFault:
    return exchange_pb2.StatementFault(
        kind=STATEMENT_FAULT_KINDS_TO_PROTO[fault.kind],
        factor="" if fault.kind is not StatementFaultKind.OVER_CLAIM else _format_factor(fault.factor_ppm),
        statements_count=fault.statements_count,
    )


def _format_factor(factor_ppm: int) -> str:
    whole, fraction = divmod(factor_ppm, PARTS_PER_MILLION)
    return f"{whole}.{fraction:06d}".rstrip("0").rstrip(".")


def _price_fault_message(market: str, fault: PriceFault) -> exchange_pb2.PriceFault:
    message = exchange_pb2.PriceFault(market=market, start_time=to_timestamp(fault.start_ms))
    if isinstance(fault, ShockFault):
        message.kind = exchange_pb2.PRICE_FAULT_KIND_SHOCK
        whole, fraction = divmod(abs(fault.change_ppm), 10_000)
        sign = "-" if fault.change_ppm < 0 else ""
        message.shock_percent = f"{sign}{whole}.{fraction:04d}".rstrip("0").rstrip(".")
    else:
        message.kind = exchange_pb2.PRICE_FAULT_KIND_STALE
        message.duration.FromMilliseconds(fault.end_ms - fault.start_ms)
    return message


def _parse_price_path(path: exchange_pb2.PricePath, quote_scale: int, tick_units: int) -> PricePathSpec:
    shape = path.WhichOneof("path")
    if shape == "random_walk":
        walk = path.random_walk
        if not 0 <= walk.volatility_bps <= VOLATILITY_BPS_MAX:
            raise invalid_argument(
                "VOLATILITY_INVALID", "path.random_walk.volatility_bps", f"must be 0 to {VOLATILITY_BPS_MAX}"
            )
        step_ms = _parse_duration(walk.step, "path.random_walk.step")
        if step_ms < 1000:
            raise invalid_argument("STEP_TOO_SHORT", "path.random_walk.step", "must be at least one second")
        return PricePathSpec(PricePathKind.RANDOM_WALK, walk.volatility_bps, step_ms)
    if shape == "scripted":
        points = path.scripted.points
        if not 1 <= len(points) <= SCRIPTED_POINTS_MAX:
            raise invalid_argument(
                "POINTS_INVALID", "path.scripted.points", f"give 1 to {SCRIPTED_POINTS_MAX} points"
            )
        return PricePathSpec(
            PricePathKind.SCRIPTED,
            points=tuple(
                ScriptedPoint(
                    _parse_duration(point.offset, f"path.scripted.points[{index}].offset"),
                    parse_change_percent(
                        point.change_percent, f"path.scripted.points[{index}].change_percent"
                    ),
                )
                for index, point in enumerate(points)
            ),
        )
    if shape == "csv":
        file_name = path.csv.file
        try:
            with Path(file_name).open("rb") as file:
                data = file.read(CSV_FILE_BYTES_MAX + 1)
        except OSError as error:
            raise invalid_argument(
                "PRICE_CSV_UNREADABLE", "path.csv.file", f"cannot read {file_name!r}: {error.strerror}"
            ) from error
        if len(data) > CSV_FILE_BYTES_MAX:
            raise invalid_argument("PRICE_CSV_TOO_LARGE", "path.csv.file", f"{file_name!r} exceeds 64 MiB")
        rows = parse_price_csv(data.decode("utf-8", errors="replace"), file_name, quote_scale, tick_units)
        return PricePathSpec(PricePathKind.CSV, csv_rows=tuple(rows), csv_source=file_name)
    raise invalid_argument("PRICE_PATH_MISSING", "path", "set random_walk, scripted or csv")


def admin_registration(servicer: ExchangeAdminServicer) -> ServiceRegistration:
    """Registers the admin service on a server."""
    return ServiceRegistration(
        ADMIN_SERVICE_NAME,
        lambda server: exchange_pb2_grpc.add_ExchangeAdminServiceServicer_to_server(servicer, server),
    )
