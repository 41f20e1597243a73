"""The invariant checker: the seven invariants of DESIGN §3, read from the running services' gRPC APIs."""

from __future__ import annotations

import decimal
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import grpc
from google.protobuf.message import Message

from oes.bridge.v1 import bridge_pb2
from oes.control.v1 import control_pb2, control_pb2_grpc
from oes.custodian.v1 import custodian_pb2
from oes.exchange.v1 import exchange_pb2
from scenarios.endpoints import Endpoints, SandboxSession, admin_session
from service_kit.auth import TokenAuthority

INVARIANT_NAMES = (
    "conservation",
    "separation",
    "cover",
    "loss_bound",
    "exactly_once",
    "default_bound",
    "append_only",
)

WORLD = "world"
WORLD_CHAIN = "world/chain"
# Every call gets a deadline: a checker that hangs on a stuck service would hide the failure.
CALL_TIMEOUT_S = 10.0
PAGE_SIZE_LEDGER = 1000
PAGE_SIZE_JOURNAL = 10_000
PAGE_SIZE_SETTLEMENTS = 100
# Limits on every loop over remote data; a sandbox run stays far below them.
PAGES_MAX = 1000
OWNERS_MAX = 10_000
STATEMENTS_MAX = 10_000
RECORDS_MAX = 200_000
DETAILS_MAX = 50

LEDGER = "custodian.ledger"
AUDIT = "custodian.audit"
EXCHANGE_JOURNAL = "exchange.journal"
BRIDGE_JOURNAL = "bridge.journal"

SETTLEMENT_KINDS = ("SETTLEMENT_LOSS", "SETTLEMENT_GAIN")
# Amounts are decimal strings in each asset's fixed scale; Decimal adds them exactly with this many digits.
_EXACT = decimal.Context(prec=60, traps=[decimal.Inexact, decimal.InvalidOperation])


@dataclass(frozen=True)
class InvariantResult:
    """Whether one invariant held, and what broke it (or what could not be checked)."""

    name: str
    passed: bool
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryMark:
    """How far one append-only history had grown at a check, and a digest of those records."""

    count: int
    last_sequence: int
    digest: str


@dataclass(frozen=True)
class InvariantState:
    """What a check remembers so that the next one can tell that history only grew."""

    marks: Mapping[str, HistoryMark] = field(default_factory=dict)
    # Statement name -> digest of the signed content the custodian recorded.
    statements: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LedgerTransfer:
    """One custodian transfer, amounts as exact decimals."""

    id: str
    sequence: int
    from_account: str
    to_account: str
    asset: str
    amount: Decimal
    kind: str
    reference: str
    wire: bytes


@dataclass
class Snapshot:
    """Everything read from the three services for one check."""

    exchanges: tuple[str, ...]
    venue_exchange: str
    transfers: list[LedgerTransfer]
    transfer_conflicts: list[str]
    balances: dict[str, dict[tuple[str, str], Decimal]]
    reserves: list[custodian_pb2.AssetReserves]
    allocated: dict[tuple[str, str], Decimal]
    custodian_connections: dict[str, custodian_pb2.Connection]
    statements: dict[str, custodian_pb2.RecordedStatement]
    mirrors: dict[tuple[str, str], Decimal] | None
    bridge_connections: list[bridge_pb2.Connection]
    pending_allocations: dict[tuple[str, str], Decimal]
    pending_deallocations: dict[tuple[str, str], Decimal]
    settlements: list[bridge_pb2.Settlement]
    histories: dict[str, list[tuple[int, bytes]]]
    notes: list[str]


def check_invariants(
    endpoints: Endpoints,
    authority: TokenAuthority,
    exchanges: Sequence[str],
    previous: InvariantState | None = None,
) -> tuple[list[InvariantResult], InvariantState]:
    """Checks all seven invariants of DESIGN §3 against the running services, in DESIGN order.

    The services are read only through their gRPC APIs, as the administrator. `exchanges` are the
    exchange resource names of the world (`exchanges/okx-sim`); the exchange listening at
    `endpoints.exchange` is the one whose mirrors are read. Pass the returned state to the next
    call so that the append-only check compares the two; pass None after a Reset. A service that
    does not answer raises grpc.RpcError: the caller decides whether that is a crash.
    """
    session = admin_session(endpoints, authority)
    try:
        snapshot = read_snapshot(session, endpoints, tuple(exchanges))
    finally:
        session.close()
    replay = replay_ledger(snapshot.transfers)
    results = [
        check_conservation(snapshot, replay),
        check_separation(snapshot),
        check_cover(snapshot),
        check_loss_bound(snapshot, replay),
        check_exactly_once(snapshot),
        check_default_bound(snapshot, replay),
    ]
    append_only, state = check_append_only(snapshot, previous)
    results.append(append_only)
    assert tuple(result.name for result in results) == INVARIANT_NAMES
    return results, state


# Reading.


def amount(text: str) -> Decimal:
    """A decimal amount from the wire, exactly."""
    return Decimal(text) if text else Decimal(0)


def account_owner(account: str) -> str:
    """`clients/acme/available` -> `clients/acme`; `world/chain` -> `world`."""
    if account.startswith(("clients/", "exchanges/")):
        return "/".join(account.split("/")[:2])
    return account.split("/")[0]


def _pages(
    fetch: Callable[[str], tuple[Iterable[Message], str]], what: str, notes: list[str]
) -> list[Message]:
    """Every item of a page-token list RPC, at most PAGES_MAX pages."""
    items: list[Message] = []
    token = ""
    for _ in range(PAGES_MAX):
        page, token = fetch(token)
        items.extend(page)
        if not token:
            return items
    notes.append(f"{what}: stopped after {PAGES_MAX} pages; later items were not checked")
    return items


def read_snapshot(session: SandboxSession, endpoints: Endpoints, exchanges: tuple[str, ...]) -> Snapshot:
    """Reads the custodian, the exchange and the bridge once."""
    notes: list[str] = []
    custodian_connections: dict[str, custodian_pb2.Connection] = {}
    for exchange in exchanges:
        listed = session.custody.ListConnections(
            custodian_pb2.ListConnectionsRequest(parent=exchange), timeout=CALL_TIMEOUT_S
        )
        for connection in listed.connections:
            custodian_connections[connection.name] = connection
    reserves = list(
        session.custody.GetProofOfReserves(
            custodian_pb2.GetProofOfReservesRequest(), timeout=CALL_TIMEOUT_S
        ).reserves
    )
    transfers, conflicts, balances = _read_ledger(session, exchanges, custodian_connections, reserves, notes)
    allocated: dict[tuple[str, str], Decimal] = {}
    for exchange in exchanges:
        listed_balances = session.custody.ListBalances(
            custodian_pb2.ListBalancesRequest(allocated_to=exchange), timeout=CALL_TIMEOUT_S
        )
        for balance in listed_balances.balances:
            allocated[(balance.account.removesuffix("/allocated"), balance.asset)] = amount(balance.amount)
    venue = session.partner.GetVenue(exchange_pb2.GetVenueRequest(), timeout=CALL_TIMEOUT_S)
    mirrors: dict[tuple[str, str], Decimal] | None = None
    if venue.exchange in exchanges:
        mirrors = {
            (mirror.connection, mirror.asset): amount(mirror.mirror)
            for mirror in session.partner.ListMirrors(
                exchange_pb2.ListMirrorsRequest(), timeout=CALL_TIMEOUT_S
            ).mirrors
        }
    for exchange in exchanges:
        if exchange != venue.exchange:
            notes.append(f"{exchange}: no exchange endpoint serves it, so its mirrors were not read")
    bridge_connections = list(
        session.network.ListConnections(
            bridge_pb2.ListConnectionsRequest(), timeout=CALL_TIMEOUT_S
        ).connections
    )
    pending_allocations, pending_deallocations = _read_pending_workflows(session, bridge_connections, notes)
    settlements = list(
        session.network.ListSettlements(
            bridge_pb2.ListSettlementsRequest(page_size=PAGE_SIZE_SETTLEMENTS), timeout=CALL_TIMEOUT_S
        ).settlements
    )
    if len(settlements) >= PAGE_SIZE_SETTLEMENTS:
        notes.append(f"only the newest {PAGE_SIZE_SETTLEMENTS} settlement cycles were read from the bridge")
    statement_names = {settlement.statement.name for settlement in settlements if settlement.statement.name}
    statement_names |= {transfer.reference for transfer in transfers if transfer.kind in SETTLEMENT_KINDS}
    statements = _read_statements(session, exchanges, statement_names, notes)
    histories = {
        LEDGER: [(transfer.sequence, transfer.wire) for transfer in transfers],
        AUDIT: _read_audit(session, notes),
        EXCHANGE_JOURNAL: _read_journal(session.control(endpoints.exchange), EXCHANGE_JOURNAL, notes),
        BRIDGE_JOURNAL: _read_journal(session.control(endpoints.bridge), BRIDGE_JOURNAL, notes),
    }
    return Snapshot(
        exchanges=exchanges,
        venue_exchange=venue.exchange,
        transfers=transfers,
        transfer_conflicts=conflicts,
        balances=balances,
        reserves=reserves,
        allocated=allocated,
        custodian_connections=custodian_connections,
        statements=statements,
        mirrors=mirrors,
        bridge_connections=bridge_connections,
        pending_allocations=pending_allocations,
        pending_deallocations=pending_deallocations,
        settlements=settlements,
        histories=histories,
        notes=notes,
    )


def _read_ledger(
    session: SandboxSession,
    exchanges: tuple[str, ...],
    connections: Mapping[str, custodian_pb2.Connection],
    reserves: Sequence[custodian_pb2.AssetReserves],
    notes: list[str],
) -> tuple[list[LedgerTransfer], list[str], dict[str, dict[tuple[str, str], Decimal]]]:
    """Every transfer and every balance, found by walking owners from `world` along the transfers.

    The custodian has no list of parties, so the owners are discovered: `world`, the exchanges,
    the clients of their connections, every party of the proof of reserves, and then every owner
    on the other side of a transfer already read. Every account that ever held anything received
    a transfer from an owner reached this way, so no balance is missed.
    """
    pending = [WORLD, *exchanges]
    pending += [connection.client for connection in connections.values()]
    pending += [liability.party for reserve in reserves for liability in reserve.liabilities]
    seen: set[str] = set()
    by_sequence: dict[int, LedgerTransfer] = {}
    conflicts: list[str] = []
    balances: dict[str, dict[tuple[str, str], Decimal]] = {}
    for _ in range(OWNERS_MAX):
        if not pending:
            break
        owner = pending.pop()
        if owner in seen:
            continue
        seen.add(owner)

        def fetch(token: str, owner: str = owner) -> tuple[Iterable[Message], str]:
            page = session.custody.ListTransfers(
                custodian_pb2.ListTransfersRequest(owner=owner, page_size=PAGE_SIZE_LEDGER, page_token=token),
                timeout=CALL_TIMEOUT_S,
            )
            return page.transfers, page.next_page_token

        for message in _pages(fetch, f"transfers of {owner}", notes):
            assert isinstance(message, custodian_pb2.Transfer)
            transfer = LedgerTransfer(
                id=message.id,
                sequence=message.sequence,
                from_account=message.from_account,
                to_account=message.to_account,
                asset=message.asset,
                amount=amount(message.amount),
                kind=message.kind,
                reference=message.reference,
                wire=message.SerializeToString(deterministic=True),
            )
            known = by_sequence.setdefault(transfer.sequence, transfer)
            if known != transfer:
                conflicts.append(f"transfer sequence {transfer.sequence} reads differently for {owner}")
            for account in (transfer.from_account, transfer.to_account):
                if account_owner(account) not in seen:
                    pending.append(account_owner(account))
        listed = session.custody.ListBalances(
            custodian_pb2.ListBalancesRequest(owner=owner), timeout=CALL_TIMEOUT_S
        )
        balances[owner] = {
            (balance.account, balance.asset): amount(balance.amount) for balance in listed.balances
        }
    else:
        notes.append(f"stopped discovering owners after {OWNERS_MAX}")
    return [by_sequence[sequence] for sequence in sorted(by_sequence)], conflicts, balances


def _read_pending_workflows(
    session: SandboxSession, connections: Sequence[bridge_pb2.Connection], notes: list[str]
) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], Decimal]]:
    """Per (connection, asset): the amounts of allocations and deallocations still PENDING at the bridge."""
    allocations: dict[tuple[str, str], Decimal] = {}
    deallocations: dict[tuple[str, str], Decimal] = {}
    for connection in connections:

        def fetch_allocations(token: str, name: str = connection.name) -> tuple[Iterable[Message], str]:
            page = session.network.ListAllocations(
                bridge_pb2.ListAllocationsRequest(connection=name, page_size=1000, page_token=token),
                timeout=CALL_TIMEOUT_S,
            )
            return page.allocations, page.next_page_token

        def fetch_deallocations(token: str, name: str = connection.name) -> tuple[Iterable[Message], str]:
            page = session.network.ListDeallocations(
                bridge_pb2.ListDeallocationsRequest(connection=name, page_size=1000, page_token=token),
                timeout=CALL_TIMEOUT_S,
            )
            return page.deallocations, page.next_page_token

        for fetch, into in ((fetch_allocations, allocations), (fetch_deallocations, deallocations)):
            for workflow in _pages(fetch, f"workflows of {connection.name}", notes):
                assert isinstance(workflow, bridge_pb2.Allocation | bridge_pb2.Deallocation)
                if workflow.state == bridge_pb2.TRANSFER_STATE_PENDING:
                    key = (workflow.connection, workflow.asset)
                    into[key] = into.get(key, Decimal(0)) + amount(workflow.amount)
    return allocations, deallocations


def _read_statements(
    session: SandboxSession, exchanges: tuple[str, ...], names: set[str], notes: list[str]
) -> dict[str, custodian_pb2.RecordedStatement]:
    """Every statement the custodian recorded: numbers 1, 2, ... of each exchange, and any named elsewhere."""

    def get(name: str) -> custodian_pb2.RecordedStatement | None:
        try:
            return session.custody_settlement.GetStatement(
                custodian_pb2.GetStatementRequest(name=name), timeout=CALL_TIMEOUT_S
            ).statement
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    statements: dict[str, custodian_pb2.RecordedStatement] = {}
    for exchange in exchanges:
        for number in range(1, STATEMENTS_MAX + 1):
            name = f"{exchange}/statements/{number}"
            recorded = get(name)
            if recorded is None:
                break
            statements[name] = recorded
        else:
            notes.append(f"{exchange}: only the first {STATEMENTS_MAX} statements were read")
    for name in sorted(names - set(statements))[:STATEMENTS_MAX]:
        recorded = get(name)
        if recorded is not None:
            statements[name] = recorded
    return statements


def _read_audit(session: SandboxSession, notes: list[str]) -> list[tuple[int, bytes]]:
    records: list[tuple[int, bytes]] = []
    after = 0
    for _ in range(PAGES_MAX):
        page = session.custody.ListAuditRecords(
            custodian_pb2.ListAuditRecordsRequest(after_sequence=after, page_size=PAGE_SIZE_LEDGER),
            timeout=CALL_TIMEOUT_S,
        )
        records += [
            (record.sequence, record.SerializeToString(deterministic=True)) for record in page.records
        ]
        if len(page.records) < PAGE_SIZE_LEDGER or len(records) >= RECORDS_MAX:
            return records
        after = page.records[-1].sequence
    notes.append(f"audit log: stopped after {PAGES_MAX} pages")
    return records


def _read_journal(
    control: control_pb2_grpc.ControlServiceStub, what: str, notes: list[str]
) -> list[tuple[int, bytes]]:
    events: list[tuple[int, bytes]] = []
    after = 0
    for _ in range(PAGES_MAX):
        page = control.ListJournal(
            control_pb2.ListJournalRequest(after_sequence=after, page_size=PAGE_SIZE_JOURNAL),
            timeout=CALL_TIMEOUT_S,
        )
        events += [(event.sequence, event.SerializeToString(deterministic=True)) for event in page.events]
        if not page.events or page.events[-1].sequence >= page.last_sequence or len(events) >= RECORDS_MAX:
            return events
        after = page.events[-1].sequence
    notes.append(f"{what}: stopped after {PAGES_MAX} pages")
    return events


# Checking.


@dataclass
class LedgerReplay:
    """Balances recomputed from the transfers in ledger order."""

    balances: dict[tuple[str, str], Decimal]
    # (account, asset) -> balance just before each transfer's sequence, for the accounts it touches.
    before: dict[tuple[int, str], Decimal]
    # Non-world accounts that went below zero: (account, asset, sequence, balance).
    negatives: list[tuple[str, str, int, Decimal]]


def replay_ledger(transfers: Sequence[LedgerTransfer]) -> LedgerReplay:
    """Applies every transfer in order: balance = received - sent."""
    balances: dict[tuple[str, str], Decimal] = {}
    before: dict[tuple[int, str], Decimal] = {}
    negatives: list[tuple[str, str, int, Decimal]] = []
    for transfer in transfers:
        for account, sign in ((transfer.from_account, -1), (transfer.to_account, 1)):
            key = (account, transfer.asset)
            before[(transfer.sequence, account)] = balances.get(key, Decimal(0))
            balances[key] = _EXACT.add(balances.get(key, Decimal(0)), sign * transfer.amount)
            if account != WORLD_CHAIN and balances[key] < 0:
                negatives.append((account, transfer.asset, transfer.sequence, balances[key]))
    return LedgerReplay(balances, before, negatives)


def _result(name: str, problems: Sequence[str]) -> InvariantResult:
    shown = list(problems[:DETAILS_MAX])
    if len(problems) > DETAILS_MAX:
        shown.append(f"... and {len(problems) - DETAILS_MAX} more")
    return InvariantResult(name, not problems, tuple(shown))


def check_conservation(snapshot: Snapshot, replay: LedgerReplay) -> InvariantResult:
    """Conservation: every asset's ledger sums to zero; custody equals deposits minus withdrawals.

    Verified: the balances of every owner reachable through the ledger (`world` included) sum to
    zero per asset; every listed balance equals what the transfers read from ListTransfers add up
    to for that account (received minus sent), and no account with a non-zero replayed balance is
    missing from ListBalances; every transfer moves a positive amount between two different
    accounts; no account other than `world/chain` has ever gone negative; and the proof of
    reserves reports a zero difference, with held-on-chain equal to minus the `world/chain`
    balance. Not verifiable from outside: that deposits really arrived on a chain (the chain is
    simulated inside the custodian), and amounts below an asset's scale (the wire shows none).
    """
    problems = list(snapshot.transfer_conflicts)
    totals: dict[str, Decimal] = {}
    listed: dict[tuple[str, str], Decimal] = {}
    for owner_balances in snapshot.balances.values():
        for (account, asset), units in owner_balances.items():
            totals[asset] = _EXACT.add(totals.get(asset, Decimal(0)), units)
            listed[(account, asset)] = units
    problems += [
        f"{asset}: balances of every owner sum to {total}, not 0" for asset, total in totals.items() if total
    ]
    for key in sorted(set(listed) | set(replay.balances)):
        shown, replayed = listed.get(key, Decimal(0)), replay.balances.get(key, Decimal(0))
        if shown != replayed:
            problems.append(f"{key[0]} {key[1]}: balance {shown} but its transfers add up to {replayed}")
    for transfer in snapshot.transfers:
        if transfer.amount <= 0 or transfer.from_account == transfer.to_account:
            problems.append(f"transfer {transfer.id} is not a positive move between two accounts")
    for account, asset, sequence, balance in replay.negatives:
        if not account.endswith("/allocated"):
            problems.append(f"{account} {asset} went to {balance} at transfer sequence {sequence}")
    for reserve in snapshot.reserves:
        if amount(reserve.difference) != 0:
            problems.append(f"{reserve.asset}: proof of reserves difference {reserve.difference}")
        world = snapshot.balances.get(WORLD, {}).get((WORLD_CHAIN, reserve.asset), Decimal(0))
        if amount(reserve.held_on_chain) != -world:
            problems.append(
                f"{reserve.asset}: held on chain {reserve.held_on_chain} but world/chain is {world}"
            )
    return _result("conservation", problems)


def _client_account_allowed(account: str, client: str, connections: Mapping[str, object]) -> bool:
    rest = account.removeprefix(client + "/")
    if rest in ("available", "withdrawing"):
        return True
    if rest.startswith("connections/") and rest.endswith("/allocated"):
        return (
            rest.removesuffix("/allocated") != ""
            and f"{client}/{rest.removesuffix('/allocated')}" in connections
        )
    return False


def check_separation(snapshot: Snapshot) -> InvariantResult:
    """Separation: client assets sit only in the client's accounts; only settled losses reach an exchange.

    Verified: every balance listed for `clients/{c}` is `clients/{c}/available`,
    `clients/{c}/withdrawing` or `clients/{c}/connections/{x}/allocated` of a connection the
    custodian knows; an exchange holds only `exchanges/{x}/settlement` and the world only
    `world/chain`. Every transfer leaving a client's accounts for an account not titled to the
    same client is either a SETTLEMENT_LOSS from `clients/{c}/connections/{x}/allocated` into
    `exchanges/{x}/settlement` whose id is `exchanges/{x}/statements/{n}/transfers/...` and that
    settles an entry of that statement for that connection, or a WITHDRAWAL_CONFIRM from
    `clients/{c}/withdrawing` to `world/chain`. Not verifiable from outside: that the client asked
    for a withdrawal (only the custodian's approval records say so), and what the exchange does
    with assets of traditional clients, which never reach the custodian.
    """
    problems: list[str] = []
    connections = snapshot.custodian_connections
    for owner, owner_balances in snapshot.balances.items():
        for account, asset in owner_balances:
            if owner.startswith("clients/"):
                allowed = account.startswith(owner + "/") and _client_account_allowed(
                    account, owner, connections
                )
            elif owner.startswith("exchanges/"):
                allowed = account == f"{owner}/settlement"
            else:
                allowed = account == WORLD_CHAIN
            if not allowed:
                problems.append(f"{owner} holds {asset} in {account}, which is not an account titled to it")
    settled_ids = {
        outcome.transfer_id: (name, outcome.connection)
        for name, recorded in snapshot.statements.items()
        for outcome in recorded.entry_outcomes
        if outcome.state == custodian_pb2.ENTRY_STATE_SETTLED and outcome.transfer_id
    }
    for transfer in snapshot.transfers:
        source = account_owner(transfer.from_account)
        if not source.startswith("clients/") or account_owner(transfer.to_account) == source:
            continue
        if transfer.kind == "WITHDRAWAL_CONFIRM":
            if (transfer.from_account, transfer.to_account) != (f"{source}/withdrawing", WORLD_CHAIN):
                problems.append(
                    f"withdrawal {transfer.id} moved {transfer.from_account} -> {transfer.to_account}"
                )
            continue
        exchange = account_owner(transfer.to_account)
        connection = transfer.from_account.removesuffix("/allocated")
        statement = settled_ids.get(transfer.id)
        if not (
            transfer.kind == "SETTLEMENT_LOSS"
            and exchange.startswith("exchanges/")
            and transfer.to_account == f"{exchange}/settlement"
            and connection == f"{source}/connections/{exchange.removeprefix('exchanges/')}"
            and transfer.from_account.endswith("/allocated")
            and transfer.id.startswith(f"{exchange}/statements/")
            and "/transfers/" in transfer.id
            and statement is not None
            and statement[1] == connection
            and transfer.id.startswith(statement[0] + "/")
        ):
            problems.append(
                f"transfer {transfer.id} ({transfer.kind}) moved {transfer.amount} {transfer.asset} from "
                f"{transfer.from_account} to {transfer.to_account}: not a settled loss of that connection"
            )
    return _result("separation", problems)


def check_cover(snapshot: Snapshot) -> InvariantResult:
    """Cover: exchange mirror <= custodian allocated for every connection and asset; equal when quiet.

    Verified, for every connection of the exchange that `endpoints.exchange` serves that is not
    DEFAULTED (a defaulted exchange's mirrors are void: the custodian returned the collateral):
    the mirror from ListMirrors is at most the allocated balance from ListBalances(allocated_to),
    except by what the workflows in flight explain: a PENDING deallocation (the custodian unlocks
    before the exchange clears the held mirror) and, while a settlement cycle of the exchange is
    RUNNING past its execution, the losses its statement settled for the connection (the
    custodian executes before the exchange confirms). When no allocation or deallocation of the
    connection is PENDING and no cycle of the exchange is RUNNING, mirror and allocated are equal.
    Not verifiable from outside: pending credit and held amounts inside the exchange, which
    ListMirrors does not show; exchanges without an endpoint are skipped (see the details).
    """
    problems: list[str] = []
    if snapshot.mirrors is None:
        return InvariantResult("cover", True, tuple(snapshot.notes))
    exchange = snapshot.venue_exchange
    defaulted = {
        connection.name
        for connection in snapshot.bridge_connections
        if connection.state == bridge_pb2.CONNECTION_STATE_DEFAULTED
    }
    defaulted |= {
        name
        for name, connection in snapshot.custodian_connections.items()
        if connection.state == custodian_pb2.CONNECTION_STATE_DEFAULTED
    }
    running = [
        settlement
        for settlement in snapshot.settlements
        if settlement.exchange == exchange and settlement.state == bridge_pb2.SETTLEMENT_STATE_RUNNING
    ]
    in_flight_losses: dict[tuple[str, str], Decimal] = {}
    for settlement in running:
        recorded = snapshot.statements.get(settlement.statement.name)
        if recorded is None:
            continue
        for outcome in recorded.entry_outcomes:
            if outcome.state == custodian_pb2.ENTRY_STATE_SETTLED and amount(outcome.amount) < 0:
                key = (outcome.connection, outcome.asset)
                in_flight_losses[key] = in_flight_losses.get(key, Decimal(0)) - amount(outcome.amount)
    suffix = "/connections/" + exchange.removeprefix("exchanges/")
    keys = {key for key in set(snapshot.mirrors) | set(snapshot.allocated) if key[0].endswith(suffix)}
    for key in sorted(keys):
        connection, asset = key
        if connection in defaulted:
            continue
        mirror = snapshot.mirrors.get(key, Decimal(0))
        allocated = snapshot.allocated.get(key, Decimal(0))
        allowance = snapshot.pending_deallocations.get(key, Decimal(0)) + in_flight_losses.get(
            key, Decimal(0)
        )
        if mirror > allocated + allowance:
            problems.append(f"{connection} {asset}: mirror {mirror} exceeds allocated {allocated}")
        quiet = (
            not running
            and key not in snapshot.pending_allocations
            and key not in snapshot.pending_deallocations
        )
        if quiet and mirror != allocated:
            problems.append(
                f"{connection} {asset}: quiet, yet mirror {mirror} differs from allocated {allocated}"
            )
    return _result("cover", problems)


def check_loss_bound(snapshot: Snapshot, replay: LedgerReplay) -> InvariantResult:
    """Loss bound: a settlement never takes more from a client than the client's allocation.

    Verified: every SETTLED loss entry of every statement the custodian recorded was paid by a
    SETTLEMENT_LOSS transfer out of that connection's `allocated` account, of the entry's amount
    (or, for a resolved dispute's `/adjustment`, of at most the stated loss), and the account held
    at least that much just before the transfer; a FAILED entry moved nothing; no `allocated`
    account has ever been negative in the ledger, and none is negative now. An entry that failed
    with LOSS_EXCEEDS_ALLOCATION is the bound working, not a breach. Not verifiable from outside:
    whether the exchange's stated loss is the true trading result (the statement is signed by the
    exchange; only its trades, which the checker does not replay, would show it).
    """
    problems: list[str] = []
    by_id = {transfer.id: transfer for transfer in snapshot.transfers}
    for name, recorded in sorted(snapshot.statements.items()):
        for outcome in recorded.entry_outcomes:
            stated = amount(outcome.amount)
            if outcome.state == custodian_pb2.ENTRY_STATE_FAILED and outcome.transfer_id:
                problems.append(
                    f"{name} {outcome.connection} {outcome.asset}: failed yet moved {outcome.transfer_id}"
                )
            if outcome.state != custodian_pb2.ENTRY_STATE_SETTLED or not outcome.transfer_id:
                continue
            transfer = by_id.get(outcome.transfer_id)
            if transfer is None:
                problems.append(
                    f"{name}: settled entry's transfer {outcome.transfer_id} is not in the ledger"
                )
                continue
            if transfer.kind != "SETTLEMENT_LOSS":
                continue
            allocated_account = f"{outcome.connection}/allocated"
            adjustment = transfer.id.endswith("/adjustment")
            if transfer.from_account != allocated_account:
                problems.append(
                    f"{name}: loss {transfer.id} was taken from {transfer.from_account}"
                    f", not {allocated_account}"
                )
            elif not adjustment and transfer.amount != -stated:
                problems.append(
                    f"{name}: loss {transfer.id} of {transfer.amount} but the entry states {stated}"
                )
            held = replay.before.get((transfer.sequence, transfer.from_account), Decimal(0))
            if transfer.amount > held:
                problems.append(
                    f"{name}: loss {transfer.amount} {transfer.asset} exceeded the allocation {held}"
                )
    for account, asset, sequence, balance in replay.negatives:
        if account.endswith("/allocated"):
            problems.append(f"{account} {asset} went to {balance} at transfer sequence {sequence}")
    for (connection, asset), allocated in sorted(snapshot.allocated.items()):
        if allocated < 0:
            problems.append(f"{connection} {asset}: allocated is {allocated}")
    return _result("loss_bound", problems)


def check_exactly_once(snapshot: Snapshot) -> InvariantResult:
    """Exactly once: cutoffs never overlap, and every statement and transfer takes effect at most once.

    Verified: no transfer id appears twice in the ledger; each exchange's statements recorded at
    the custodian are numbered 1, 2, ... (skipping only numbers of statements a bridge cycle
    refused and had voided: FAILED at step VOID) with `previous_statement` naming the one before and
    `first_trade_sequence` = previous `last_trade_sequence` + 1 (1 for the first), so consecutive
    trade ranges neither overlap nor leave a gap; a statement name appears in at most one
    SUCCEEDED settlement cycle at the bridge, whose statement is the one the custodian recorded
    (same nonce); every SETTLEMENT_LOSS or SETTLEMENT_GAIN transfer settles exactly one entry of
    one statement, and no transfer settles two entries. Not verifiable from outside: that every
    trade the exchange made carries a sequence inside some statement's range (the checker does
    not list every account's trades), and the bridge's older cycles beyond the newest
    ListSettlements page.
    """
    problems: list[str] = []
    seen_ids: dict[str, int] = {}
    for transfer in snapshot.transfers:
        if transfer.id in seen_ids:
            problems.append(
                f"transfer id {transfer.id} appears at sequences {seen_ids[transfer.id]}"
                f" and {transfer.sequence}"
            )
        seen_ids[transfer.id] = transfer.sequence
    by_exchange: dict[str, list[custodian_pb2.RecordedStatement]] = {}
    for recorded in snapshot.statements.values():
        by_exchange.setdefault(recorded.statement.exchange, []).append(recorded)
    voided = {
        settlement.statement.name
        for settlement in snapshot.settlements
        if settlement.state == bridge_pb2.SETTLEMENT_STATE_FAILED
        and settlement.step == bridge_pb2.SETTLEMENT_STEP_VOID
    }
    for exchange, recorded_list in sorted(by_exchange.items()):
        recorded_list.sort(key=lambda recorded: recorded.statement.number)
        previous: custodian_pb2.RecordedStatement | None = None
        expected_number = 1
        for recorded in recorded_list:
            statement = recorded.statement
            while statement.number > expected_number and f"{exchange}/statements/{expected_number}" in voided:
                expected_number += 1
            if statement.number != expected_number:
                problems.append(
                    f"{exchange}: statement {statement.number} recorded where {expected_number} was due"
                )
            expected_number = statement.number + 1
            previous_name = previous.statement.name if previous else ""
            first_due = previous.statement.last_trade_sequence + 1 if previous else 1
            if statement.previous_statement != previous_name:
                problems.append(
                    f"{statement.name}: previous is {statement.previous_statement!r}, not {previous_name!r}"
                )
            if statement.first_trade_sequence != first_due:
                problems.append(
                    f"{statement.name}: trades from {statement.first_trade_sequence}, not {first_due}: "
                    "its cutoff overlaps or skips the previous one"
                )
            if statement.last_trade_sequence < statement.first_trade_sequence - 1:
                problems.append(f"{statement.name}: trade range ends before it starts")
            previous = recorded
    succeeded: dict[str, str] = {}
    for settlement in snapshot.settlements:
        if settlement.state != bridge_pb2.SETTLEMENT_STATE_SUCCEEDED or not settlement.statement.name:
            continue
        name = settlement.statement.name
        if name in succeeded:
            problems.append(f"{name} succeeded in two cycles: {succeeded[name]} and {settlement.name}")
        succeeded[name] = settlement.name
        recorded_statement = snapshot.statements.get(name)
        if recorded_statement is None:
            problems.append(f"{settlement.name} succeeded with {name}, which the custodian never recorded")
        elif recorded_statement.statement.nonce != settlement.statement.nonce:
            problems.append(f"{settlement.name}: {name} differs from the statement the custodian recorded")
    settles: dict[str, str] = {}
    for name, recorded in snapshot.statements.items():
        for outcome in recorded.entry_outcomes:
            if not outcome.transfer_id:
                continue
            if outcome.transfer_id in settles:
                problems.append(
                    f"transfer {outcome.transfer_id} settles two entries"
                    f" ({settles[outcome.transfer_id]}, {name})"
                )
            settles[outcome.transfer_id] = name
    for transfer in snapshot.transfers:
        if transfer.kind in SETTLEMENT_KINDS and transfer.id not in settles:
            problems.append(f"settlement transfer {transfer.id} settles no entry of any recorded statement")
    return _result("exactly_once", problems)


def check_default_bound(snapshot: Snapshot, replay: LedgerReplay) -> InvariantResult:
    """Default bound: after an exchange default an OES client loses at most its unsettled loss.

    Verified, for every connection the bridge lists DEFAULTED: the custodian also has it
    DEFAULTED; per asset, the DEFAULT_RELEASE transfers out of its `allocated` account add up to
    the outcome's `principal_returned` and went to the client's own `available`; its `allocated`
    balance is now zero and nothing touched it after the release; and what was taken from it by
    statements no completed (SUCCEEDED) cycle settled — the last signed statement the default
    procedure may apply — is exactly those statements' signed loss entries for the connection, so
    the custody after default equals what was allocated minus at most that signed loss. The
    outcome's `unsettled_at_risk` (the exchange's unsettled result at failure) was not taken from
    custody, which the "nothing touched it after the release" part checks. Not verifiable from
    outside: what the exchange's unsettled result truly was at the instant of failure (the bridge
    reads it, or leaves it empty when the exchange is unreachable), and what a traditional client
    recovers from the estate, which is decided inside the exchange.
    """
    problems: list[str] = []
    completed = {
        settlement.statement.name
        for settlement in snapshot.settlements
        if settlement.state == bridge_pb2.SETTLEMENT_STATE_SUCCEEDED
    }
    signed_entries: dict[str, Decimal] = {}
    for recorded in snapshot.statements.values():
        for outcome in recorded.entry_outcomes:
            if outcome.transfer_id:
                signed_entries[outcome.transfer_id] = amount(outcome.amount)
    for connection in snapshot.bridge_connections:
        if connection.state != bridge_pb2.CONNECTION_STATE_DEFAULTED:
            continue
        name = connection.name
        custodian_connection = snapshot.custodian_connections.get(name)
        if (
            custodian_connection is None
            or custodian_connection.state != custodian_pb2.CONNECTION_STATE_DEFAULTED
        ):
            problems.append(f"{name}: DEFAULTED at the bridge but not at the custodian")
        allocated_account = f"{name}/allocated"
        available_account = f"{connection.client}/available"
        returned = {item.asset: amount(item.amount) for item in connection.default_outcome.principal_returned}
        released: dict[str, Decimal] = {}
        release_sequence = 0
        for transfer in snapshot.transfers:
            if transfer.kind == "DEFAULT_RELEASE" and transfer.from_account == allocated_account:
                released[transfer.asset] = released.get(transfer.asset, Decimal(0)) + transfer.amount
                release_sequence = max(release_sequence, transfer.sequence)
                if transfer.to_account != available_account:
                    problems.append(f"{name}: default release {transfer.id} went to {transfer.to_account}")
        for asset in sorted(set(returned) | set(released)):
            if returned.get(asset, Decimal(0)) != released.get(asset, Decimal(0)):
                problems.append(
                    f"{name} {asset}: principal_returned {returned.get(asset, 0)} but the custodian released "
                    f"{released.get(asset, 0)}"
                )
        for (account, asset), balance in replay.balances.items():
            if account == allocated_account and balance != 0:
                problems.append(f"{name} {asset}: {balance} still allocated after the default")
        for transfer in snapshot.transfers:
            touches = allocated_account in (transfer.from_account, transfer.to_account)
            if touches and release_sequence and transfer.sequence > release_sequence:
                problems.append(
                    f"{name}: transfer {transfer.id} moved the allocation after the default release"
                )
            if (
                touches
                and transfer.kind in SETTLEMENT_KINDS
                and transfer.reference not in completed
                and not transfer.id.endswith("/adjustment")
            ):
                signed = signed_entries.get(transfer.id)
                moved = transfer.amount if transfer.kind == "SETTLEMENT_GAIN" else -transfer.amount
                if signed is None or signed != moved:
                    problems.append(
                        f"{name}: {transfer.id} moved {moved} {transfer.asset} outside a completed cycle, "
                        f"but the signed entry is {signed}"
                    )
    return _result("default_bound", problems)


def _digest_marks(records: Sequence[tuple[int, bytes]], prefix_count: int) -> tuple[str, str]:
    """The digest of the first `prefix_count` records and of all of them."""
    running = hashlib.sha256()
    prefix = running.hexdigest()
    for index, (sequence, wire) in enumerate(records):
        if index == prefix_count:
            prefix = running.hexdigest()
        running.update(sequence.to_bytes(8, "big"))
        running.update(len(wire).to_bytes(8, "big"))
        running.update(wire)
    if prefix_count >= len(records):
        prefix = running.hexdigest()
    return prefix, running.hexdigest()


def check_append_only(
    snapshot: Snapshot, previous: InvariantState | None
) -> tuple[InvariantResult, InvariantState]:
    """Append-only history: no ledger transfer, statement or audit record is ever edited or deleted.

    Verified: the custodian's ledger (every transfer, in sequence order), its audit log and the
    exchange's and the bridge's event journals are numbered 1, 2, ... without gaps; compared with
    the state of the previous check, each has at least as many records and its first records
    (as many as the previous check saw) hash to the same digest, so an edited, deleted or
    reordered old record is caught; and every statement the custodian recorded before still
    exists with the same signed content and signature. Not verifiable from outside: an edit made
    and undone between two checks, records beyond the first RECORDS_MAX of a history, and edits
    to anything these RPCs do not show (for example the exchange's order book or the request
    log). After a Reset the caller must start again with no previous state.
    """
    problems: list[str] = []
    marks: dict[str, HistoryMark] = {}
    for source, records in snapshot.histories.items():
        sequences = [sequence for sequence, _ in records]
        if sequences != list(range(1, len(sequences) + 1)):
            missing = sorted(set(range(1, (max(sequences) if sequences else 0) + 1)) - set(sequences))
            problems.append(
                f"{source}: sequence numbers are not 1..{len(sequences)} (missing {missing[:10]})"
            )
        earlier = previous.marks.get(source) if previous else None
        prefix, whole = _digest_marks(records, earlier.count if earlier else 0)
        if earlier is not None:
            if len(records) < earlier.count:
                problems.append(f"{source}: {len(records)} records, {earlier.count} at the previous check")
            elif prefix != earlier.digest:
                problems.append(
                    f"{source}: one of its first {earlier.count} records was edited, removed or reordered"
                )
            last = sequences[-1] if sequences else 0
            if last < earlier.last_sequence:
                problems.append(
                    f"{source}: last sequence {last}, {earlier.last_sequence} at the previous check"
                )
        marks[source] = HistoryMark(len(records), sequences[-1] if sequences else 0, whole)
    statements = {
        name: hashlib.sha256(recorded.statement.SerializeToString(deterministic=True)).hexdigest()
        for name, recorded in snapshot.statements.items()
    }
    if previous is not None:
        for name, digest in sorted(previous.statements.items()):
            if name not in statements:
                problems.append(f"statement {name} was recorded at the previous check and is gone")
            elif statements[name] != digest:
                problems.append(f"statement {name}: its signed content changed since the previous check")
    return _result("append_only", problems), InvariantState(marks, statements)
