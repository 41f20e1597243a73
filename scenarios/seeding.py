"""Seeds a world into running services through their public APIs; safe to run again."""

from __future__ import annotations

from collections.abc import Callable

from oes.bridge.v1 import bridge_pb2
from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session, client_principal
from scenarios.world import World
from service_kit.auth import TokenAuthority


def seed_world(
    world: World, endpoints: Endpoints, authority: TokenAuthority, say: Callable[[str], None] = print
) -> None:
    """Creates parties, registers statement keys, books deposits and opens connections.

    Every request_id is derived from the world, so seeding a data directory a second time
    returns the stored first responses instead of depositing twice.
    """
    admin = admin_session(endpoints, authority)
    try:
        for exchange in world.exchanges:
            name = f"exchanges/{exchange.identifier}"
            admin.custody_admin.CreateParty(
                custodian_pb2.CreatePartyRequest(
                    request_id=f"world/parties/{name}",
                    party=custodian_pb2.Party(
                        name=name, kind=custodian_pb2.PARTY_KIND_EXCHANGE, display_name=exchange.display_name
                    ),
                )
            )
            venue = admin.partner.GetVenue(exchange_pb2.GetVenueRequest())
            admin.custody_admin.RegisterExchangeKey(
                custodian_pb2.RegisterExchangeKeyRequest(
                    request_id=f"world/keys/{name}", exchange=name, public_key=venue.statement_public_key
                )
            )
            _deposit_all(admin, name, exchange.settlement_funding)
            say(f"seeded {name}: settlement account funded with {_describe(exchange.settlement_funding)}")
        for client in world.clients:
            name = f"clients/{client.identifier}"
            admin.custody_admin.CreateParty(
                custodian_pb2.CreatePartyRequest(
                    request_id=f"world/parties/{name}",
                    party=custodian_pb2.Party(
                        name=name, kind=custodian_pb2.PARTY_KIND_CLIENT, display_name=client.display_name
                    ),
                )
            )
            _deposit_all(admin, name, client.deposits)
            client_session = SandboxSession(endpoints, authority, client_principal(client.identifier))
            try:
                for exchange_identifier in client.connections:
                    client_session.network.CreateConnection(
                        bridge_pb2.CreateConnectionRequest(
                            request_id=f"world/connections/{client.identifier}/{exchange_identifier}",
                            client=name,
                            exchange=f"exchanges/{exchange_identifier}",
                        )
                    )
            finally:
                client_session.close()
            say(
                f"seeded {name}: custody deposits {_describe(client.deposits)}, "
                f"connected to {list(client.connections)}"
            )
    finally:
        admin.close()


def _deposit_all(admin: SandboxSession, owner: str, amounts: dict[str, str]) -> None:
    for asset, amount in amounts.items():
        admin.custody_admin.SimulateDeposit(
            custodian_pb2.SimulateDepositRequest(
                request_id=f"world/deposits/{owner}/{asset}", owner=owner, asset=asset, amount=amount
            )
        )


def _describe(amounts: dict[str, str]) -> str:
    return ", ".join(f"{amount} {asset}" for asset, amount in amounts.items()) or "nothing"
