"""Every custodian RPC called as every kind of caller, each answered with the exact code.

The callers: no token, an unknown token, another client, the owning client, the exchange, the
bridge and admin. Each request names the owning client's (or the exchange's) resources and is
valid, so an allowed caller gets OK and a refused one UNAUTHENTICATED or PERMISSION_DENIED. A
mutating call that is allowed runs on a freshly reset and re-seeded custodian, so its outcome
does not depend on the calls before it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import duration_pb2

from custodian_sim.bootstrap import build
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.custodian.v1 import custodian_pb2, custodian_pb2_grpc
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind
from service_kit.clock import SimulatedClock
from service_kit.config import RunningService, start_service
from service_kit.statement_messages import message_from_content
from tests.integration.support import START_MS, bearer, service_config
from tests.unit.custodian_sim.statement_factory import exchange_public_key, signed, statement_content

OKX = "exchanges/okx-sim"
ACME = "clients/acme"
ACME_CONNECTION = "clients/acme/connections/okx-sim"
BETA_CONNECTION = "clients/beta/connections/okx-sim"
GAMMA_CONNECTION = "clients/gamma/connections/okx-sim"
RESERVED_ALLOCATION = f"{ACME_CONNECTION}/allocations/reserved-btc"
PENDING_WITHDRAWAL = "clients/acme/withdrawals/1"
ADDRESS = "bc1q-acme-cold-wallet"
STATEMENT_1 = statement_content(
    OKX, 1, [(ACME_CONNECTION, "BTC", "0.10000000"), (ACME_CONNECTION, "USDT", "-100")]
)
STATEMENT_2 = statement_content(OKX, 2, [(GAMMA_CONNECTION, "BTC", "0.01000000")])

CALLERS = ("none", "unknown", "other client", "owning client", "exchange", "bridge", "admin")
_METADATA: dict[str, tuple[tuple[str, str], ...]] = {
    "none": (),
    "unknown": (("authorization", "Bearer oes1.admin.00000000000000000000000000000000"),),
    "other client": bearer(Principal(PrincipalKind.CLIENT, "beta")),
    "owning client": bearer(Principal(PrincipalKind.CLIENT, "acme")),
    "exchange": bearer(Principal(PrincipalKind.EXCHANGE, "okx-sim")),
    "bridge": bearer(BRIDGE),
    "admin": bearer(ADMIN),
}

OWNER_READERS = {"owning client", "bridge", "admin"}
CLIENT_OR_ADMIN = {"owning client", "admin"}
BRIDGE_OR_ADMIN = {"bridge", "admin"}
ANYONE = {"other client", "owning client", "exchange", "bridge", "admin"}


@dataclass(frozen=True)
class Case:
    """One RPC, a valid request about the owner's resources, and who may call it."""

    service: str
    method: str
    request: Callable[[], Any]
    allowed: set[str]
    mutates: bool


def _statement_message(content: Any) -> Any:
    return message_from_content(*signed(content))


CASES = [
    Case(
        "custody", "ListBalances", lambda: custodian_pb2.ListBalancesRequest(owner=ACME), OWNER_READERS, False
    ),
    Case(
        "custody",
        "ListTransfers",
        lambda: custodian_pb2.ListTransfersRequest(owner=ACME),
        OWNER_READERS,
        False,
    ),
    Case("custody", "GetProofOfReserves", custodian_pb2.GetProofOfReservesRequest, BRIDGE_OR_ADMIN, False),
    Case(
        "custody",
        "ListConnections",
        lambda: custodian_pb2.ListConnectionsRequest(parent=ACME),
        OWNER_READERS,
        False,
    ),
    Case(
        "custody",
        "CreateWhitelistAddress",
        lambda: custodian_pb2.CreateWhitelistAddressRequest(
            request_id="matrix", client=ACME, asset="USDT", address="0xacme-hot", label="hot"
        ),
        CLIENT_OR_ADMIN,
        True,
    ),
    Case(
        "custody",
        "ListWhitelistAddresses",
        lambda: custodian_pb2.ListWhitelistAddressesRequest(client=ACME),
        CLIENT_OR_ADMIN,
        False,
    ),
    Case(
        "custody",
        "CreateWithdrawal",
        lambda: custodian_pb2.CreateWithdrawalRequest(
            request_id="matrix", client=ACME, asset="BTC", amount="0.1", address=ADDRESS
        ),
        CLIENT_OR_ADMIN,
        True,
    ),
    # The policy names admin as the only approver: the owning client cannot approve its own.
    Case(
        "custody",
        "ApproveWithdrawal",
        lambda: custodian_pb2.ApproveWithdrawalRequest(request_id="matrix", name=PENDING_WITHDRAWAL),
        {"admin"},
        True,
    ),
    Case(
        "custody",
        "CancelWithdrawal",
        lambda: custodian_pb2.CancelWithdrawalRequest(request_id="matrix", name=PENDING_WITHDRAWAL),
        CLIENT_OR_ADMIN,
        True,
    ),
    Case(
        "custody",
        "GetWithdrawal",
        lambda: custodian_pb2.GetWithdrawalRequest(name=PENDING_WITHDRAWAL),
        CLIENT_OR_ADMIN,
        False,
    ),
    Case(
        "custody",
        "ListWithdrawals",
        lambda: custodian_pb2.ListWithdrawalsRequest(client=ACME),
        CLIENT_OR_ADMIN,
        False,
    ),
    Case("custody", "ListAuditRecords", custodian_pb2.ListAuditRecordsRequest, ANYONE, False),
    Case("custody", "StreamAuditLog", custodian_pb2.StreamAuditLogRequest, ANYONE, False),
    Case("custody", "ListClaims", lambda: custodian_pb2.ListClaimsRequest(party=ACME), OWNER_READERS, False),
    Case(
        "settlement",
        "CreateConnection",
        lambda: custodian_pb2.CreateConnectionRequest(
            request_id="matrix", client="clients/delta", exchange=OKX
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "ActivateConnection",
        lambda: custodian_pb2.ActivateConnectionRequest(request_id="matrix", name=BETA_CONNECTION),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "CloseConnection",
        lambda: custodian_pb2.CloseConnectionRequest(request_id="matrix", name=BETA_CONNECTION),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "LockAllocation",
        lambda: custodian_pb2.LockAllocationRequest(
            request_id="matrix",
            connection=ACME_CONNECTION,
            allocation_id="matrix-lock",
            asset="BTC",
            amount="1",
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "UnlockAllocation",
        lambda: custodian_pb2.UnlockAllocationRequest(
            request_id="matrix",
            connection=ACME_CONNECTION,
            unlock_id="matrix-unlock",
            asset="BTC",
            amount="0.5",
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "ClearAllocation",
        lambda: custodian_pb2.ClearAllocationRequest(request_id="matrix", allocation=RESERVED_ALLOCATION),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "ReleaseAllocation",
        lambda: custodian_pb2.ReleaseAllocationRequest(
            request_id="matrix", allocation=RESERVED_ALLOCATION, reason="EXCHANGE_REFUSED"
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "GetAllocation",
        lambda: custodian_pb2.GetAllocationRequest(name=RESERVED_ALLOCATION),
        BRIDGE_OR_ADMIN,
        False,
    ),
    Case(
        "settlement",
        "SubmitStatement",
        lambda: custodian_pb2.SubmitStatementRequest(
            request_id="matrix", statement=_statement_message(STATEMENT_2)
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "ExecuteStatement",
        lambda: custodian_pb2.ExecuteStatementRequest(request_id="matrix", statement=STATEMENT_2.name),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "GetStatement",
        lambda: custodian_pb2.GetStatementRequest(name=STATEMENT_1.name),
        BRIDGE_OR_ADMIN,
        False,
    ),
    Case(
        "settlement",
        "DisputeStatementEntry",
        lambda: custodian_pb2.DisputeStatementEntryRequest(
            request_id="matrix",
            statement=STATEMENT_2.name,
            connection=GAMMA_CONNECTION,
            asset="BTC",
            reason="WRONG",
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "ResolveDisputedEntry",
        lambda: custodian_pb2.ResolveDisputedEntryRequest(
            request_id="matrix", statement=STATEMENT_1.name, connection=ACME_CONNECTION, asset="USDT"
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "settlement",
        "ReleaseOnDefault",
        lambda: custodian_pb2.ReleaseOnDefaultRequest(
            request_id="matrix", exchange=OKX, apply_last_statement=True
        ),
        BRIDGE_OR_ADMIN,
        True,
    ),
    Case(
        "admin",
        "CreateParty",
        lambda: custodian_pb2.CreatePartyRequest(
            request_id="matrix",
            party=custodian_pb2.Party(name="clients/epsilon", kind=custodian_pb2.PARTY_KIND_CLIENT),
        ),
        {"admin"},
        True,
    ),
    Case(
        "admin",
        "RegisterExchangeKey",
        lambda: custodian_pb2.RegisterExchangeKeyRequest(
            request_id="matrix", exchange=OKX, public_key=exchange_public_key(OKX)
        ),
        {"admin"},
        True,
    ),
    Case(
        "admin",
        "SimulateDeposit",
        lambda: custodian_pb2.SimulateDepositRequest(
            request_id="matrix", owner=ACME, asset="BTC", amount="1"
        ),
        {"admin"},
        True,
    ),
    Case(
        "admin",
        "SetWithdrawalPolicy",
        lambda: custodian_pb2.SetWithdrawalPolicyRequest(
            request_id="matrix",
            policy=custodian_pb2.WithdrawalPolicy(
                client=ACME, thresholds={"BTC": "1"}, approvers=["admin"], quorum=1
            ),
        ),
        {"admin"},
        True,
    ),
]


class Custodian:
    """A running custodian with one stub per service, re-seeded on demand."""

    def __init__(self, running: RunningService) -> None:
        self.running = running
        self.channel = grpc.insecure_channel(f"127.0.0.1:{running.port}")
        self.stubs = {
            "custody": custodian_pb2_grpc.CustodyServiceStub(self.channel),
            "settlement": custodian_pb2_grpc.CustodySettlementServiceStub(self.channel),
            "admin": custodian_pb2_grpc.CustodyAdminServiceStub(self.channel),
        }
        self.control = control_pb2_grpc.ControlServiceStub(self.channel)
        self._reset_numbers = itertools.count(1)

    def reseed(self) -> None:
        """Empties the custodian and builds the world every case's request refers to."""
        self.control.Reset(
            control_pb2.ResetRequest(request_id=f"matrix-reset-{next(self._reset_numbers)}"),
            metadata=bearer(ADMIN),
        )
        admin, settlement, custody = self.stubs["admin"], self.stubs["settlement"], self.stubs["custody"]
        as_admin = bearer(ADMIN)
        for name, kind in (
            (OKX, custodian_pb2.PARTY_KIND_EXCHANGE),
            *(
                (f"clients/{client}", custodian_pb2.PARTY_KIND_CLIENT)
                for client in ("acme", "beta", "gamma", "delta")
            ),
        ):
            admin.CreateParty(
                custodian_pb2.CreatePartyRequest(
                    request_id=f"party-{name}", party=custodian_pb2.Party(name=name, kind=kind)
                ),
                metadata=as_admin,
            )
        admin.RegisterExchangeKey(
            custodian_pb2.RegisterExchangeKeyRequest(
                request_id="key", exchange=OKX, public_key=exchange_public_key(OKX)
            ),
            metadata=as_admin,
        )
        for owner, asset, amount in (
            (ACME, "BTC", "10"),
            (ACME, "USDT", "100000"),
            ("clients/gamma", "BTC", "1"),
            (OKX, "BTC", "50"),
            (OKX, "USDT", "1000000"),
        ):
            admin.SimulateDeposit(
                custodian_pb2.SimulateDepositRequest(
                    request_id=f"deposit-{owner}-{asset}", owner=owner, asset=asset, amount=amount
                ),
                metadata=as_admin,
            )
        for connection in (ACME_CONNECTION, GAMMA_CONNECTION, BETA_CONNECTION):
            client = connection.split("/connections/")[0]
            settlement.CreateConnection(
                custodian_pb2.CreateConnectionRequest(
                    request_id=f"create-{client}", client=client, exchange=OKX
                ),
                metadata=as_admin,
            )
            if connection != BETA_CONNECTION:
                settlement.ActivateConnection(
                    custodian_pb2.ActivateConnectionRequest(request_id=f"activate-{client}", name=connection),
                    metadata=as_admin,
                )
        for connection, allocation_id, asset, amount in (
            (ACME_CONNECTION, "reserved-btc", "BTC", "2"),
            (ACME_CONNECTION, "cleared-usdt", "USDT", "10000"),
            (GAMMA_CONNECTION, "gamma-btc", "BTC", "1"),
        ):
            settlement.LockAllocation(
                custodian_pb2.LockAllocationRequest(
                    request_id=f"lock-{allocation_id}",
                    connection=connection,
                    allocation_id=allocation_id,
                    asset=asset,
                    amount=amount,
                ),
                metadata=as_admin,
            )
        settlement.ClearAllocation(
            custodian_pb2.ClearAllocationRequest(
                request_id="clear-usdt", allocation=f"{ACME_CONNECTION}/allocations/cleared-usdt"
            ),
            metadata=as_admin,
        )
        # Statement 1 executed with its USDT entry held in dispute; statement 2 recorded, pending.
        settlement.SubmitStatement(
            custodian_pb2.SubmitStatementRequest(
                request_id="submit-1", statement=_statement_message(STATEMENT_1)
            ),
            metadata=as_admin,
        )
        settlement.DisputeStatementEntry(
            custodian_pb2.DisputeStatementEntryRequest(
                request_id="dispute-1",
                statement=STATEMENT_1.name,
                connection=ACME_CONNECTION,
                asset="USDT",
                reason="X",
            ),
            metadata=as_admin,
        )
        settlement.ExecuteStatement(
            custodian_pb2.ExecuteStatementRequest(request_id="execute-1", statement=STATEMENT_1.name),
            metadata=as_admin,
        )
        settlement.SubmitStatement(
            custodian_pb2.SubmitStatementRequest(
                request_id="submit-2", statement=_statement_message(STATEMENT_2)
            ),
            metadata=as_admin,
        )
        # A usable whitelisted address and a withdrawal waiting for admin's approval.
        admin.SetWithdrawalPolicy(
            custodian_pb2.SetWithdrawalPolicyRequest(
                request_id="policy",
                policy=custodian_pb2.WithdrawalPolicy(
                    client=ACME, thresholds={"BTC": "0.5"}, approvers=["admin"], quorum=1
                ),
            ),
            metadata=as_admin,
        )
        custody.CreateWhitelistAddress(
            custodian_pb2.CreateWhitelistAddressRequest(
                request_id="whitelist", client=ACME, asset="BTC", address=ADDRESS, label="cold"
            ),
            metadata=as_admin,
        )
        self.control.AdvanceClock(
            control_pb2.AdvanceClockRequest(
                request_id=f"cool-off-{next(self._reset_numbers)}",
                duration=duration_pb2.Duration(seconds=2 * 3600),
            ),
            metadata=as_admin,
        )
        custody.CreateWithdrawal(
            custodian_pb2.CreateWithdrawalRequest(
                request_id="withdraw", client=ACME, asset="BTC", amount="1", address=ADDRESS
            ),
            metadata=as_admin,
        )

    def call(self, case: Case, caller: str) -> grpc.StatusCode:
        """Calls the case's RPC as `caller`; returns the status code."""
        method = getattr(self.stubs[case.service], case.method)
        try:
            if case.method == "StreamAuditLog":
                replies = method(case.request(), metadata=_METADATA[caller])
                next(iter(replies))
                replies.cancel()
            else:
                method(case.request(), metadata=_METADATA[caller])
        except grpc.RpcError as error:
            assert isinstance(error, grpc.Call)
            return error.code()
        return grpc.StatusCode.OK


@pytest.fixture(scope="module")
def custodian(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Custodian]:
    data_dir: Path = tmp_path_factory.mktemp("matrix")
    running = start_service(service_config(data_dir), build, SimulatedClock(START_MS))
    custodian = Custodian(running)
    custodian.reseed()
    yield custodian
    custodian.channel.close()
    running.stop()


def expected_code(case: Case, caller: str) -> grpc.StatusCode:
    if caller in ("none", "unknown"):
        return grpc.StatusCode.UNAUTHENTICATED
    return grpc.StatusCode.OK if caller in case.allowed else grpc.StatusCode.PERMISSION_DENIED


def test_every_custodian_rpc_has_a_case() -> None:
    methods = {
        method.name
        for service in custodian_pb2.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    }
    assert {case.method for case in CASES} == methods


@pytest.mark.parametrize("case", CASES, ids=[case.method for case in CASES])
def test_each_caller_gets_the_exact_code(custodian: Custodian, case: Case) -> None:
    observed: dict[str, grpc.StatusCode] = {}
    for caller in CALLERS:
        allowed = expected_code(case, caller) is grpc.StatusCode.OK
        if allowed and case.mutates:
            custodian.reseed()
        observed[caller] = custodian.call(case, caller)
    assert observed == {caller: expected_code(case, caller) for caller in CALLERS}
