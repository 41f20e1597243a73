"""The `oes` command: `up`, `demo` (a narrated settlement), `tokens`, `scenario list|validate|run|swarm`."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import grpc

from scenarios.demo import DemoPlan, run_demo
from scenarios.endpoints import (
    BRIDGE_PORT_DEFAULT,
    CUSTODIAN_PORT_DEFAULT,
    EXCHANGE_PORT_DEFAULT,
    Endpoints,
    client_principal,
)
from scenarios.run_command import JOBS_DEFAULT, JOBS_MAX, run_scenarios
from scenarios.runner import EXIT_INVALID_FILE
from scenarios.scenario_file import (
    ScenarioError,
    find_scenario,
    first_comment_line,
    library_scenarios,
    load_scenario,
)
from scenarios.seeding import seed_world
from scenarios.supervisor import ServicePorts, Supervisor, SupervisorError
from scenarios.swarm import run_swarm
from scenarios.world import DEMO_WORLD_PATH, World, WorldError, load_world
from service_kit.auth import ADMIN, BRIDGE, Principal, PrincipalKind, TokenAuthority
from service_kit.config import AUTH_SECRET_DEFAULT, AUTH_SECRET_ENVIRONMENT, DATA_DIR_DEFAULT
from service_kit.rpc_errors import remote_error

CHECK_INTERVAL_S = 0.5


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `oes` console script."""
    parser = argparse.ArgumentParser(
        prog="oes", description="OES sandbox: off-exchange settlement you can break."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start custodian, exchange and bridge and seed the world")
    up.add_argument("--world", type=Path, default=DEMO_WORLD_PATH, help="world file (YAML)")
    up.add_argument("--data-dir", type=Path, default=DATA_DIR_DEFAULT)
    up.add_argument("--clock", choices=["real", "sim"], default="real")
    up.add_argument("--custodian-port", type=int, default=CUSTODIAN_PORT_DEFAULT)
    up.add_argument("--exchange-port", type=int, default=EXCHANGE_PORT_DEFAULT)
    up.add_argument("--bridge-port", type=int, default=BRIDGE_PORT_DEFAULT)

    demo = commands.add_parser("demo", help="run a narrated deposit-allocate-trade-settle against `oes up`")
    _add_endpoint_arguments(demo)
    demo.add_argument("--client", default="acme")
    demo.add_argument("--exchange", default="okx-sim")

    tokens = commands.add_parser("tokens", help="print the development tokens of a world")
    tokens.add_argument("--world", type=Path, default=DEMO_WORLD_PATH)

    scenario = commands.add_parser("scenario", help="scenario files: list and validate")
    scenario_commands = scenario.add_subparsers(dest="scenario_command", required=True)
    validate = scenario_commands.add_parser(
        "validate", help="check scenario files against the schema and their world; starts nothing"
    )
    validate.add_argument("scenarios", nargs="+", metavar="FILE|NAME", help="a scenario file or library name")
    scenario_commands.add_parser("list", help="list the library scenarios and what each shows")
    run = scenario_commands.add_parser(
        "run", help="run scenarios against fresh services (sim clock) and check invariants and expectations"
    )
    run.add_argument("scenarios", nargs="*", metavar="FILE|NAME", help="a scenario file or library name")
    run.add_argument("--all", action="store_true", help="run every library scenario")
    run.add_argument("--seed", type=int, default=None, help="override the scenario's seed")
    run.add_argument(
        "--report-dir",
        type=Path,
        default=None,
        help="where to write result.json, junit.xml and journal.jsonl (a sub-directory per scenario)",
    )
    run.add_argument(
        "--jobs",
        type=_jobs,
        default=JOBS_DEFAULT,
        help=f"how many scenarios run side by side, each with its own three services "
        f"(default {JOBS_DEFAULT} on this machine, at most {JOBS_MAX})",
    )
    run.add_argument(
        "--compare",
        action="store_true",
        help="for trainers: per client, custody model, assets before and after, loss, time until usable",
    )
    swarm = scenario_commands.add_parser(
        "swarm", help="run random fault schedules, one per seed, and report any invariant broken"
    )
    swarm.add_argument("--seeds", type=int, required=True, help="how many seeds to run")
    swarm.add_argument("--first-seed", type=int, default=1, help="the first seed (default 1)")
    swarm.add_argument(
        "--jobs",
        type=_jobs,
        default=JOBS_DEFAULT,
        help=f"how many seeds run side by side, each with its own three services (default {JOBS_DEFAULT})",
    )
    swarm.add_argument(
        "--report-dir",
        type=Path,
        default=Path("oes-swarm"),
        help="where the generated scenarios (swarm-SEED.yaml) and the reports of failed seeds go",
    )

    arguments = parser.parse_args(argv)
    if arguments.command == "scenario":
        return _scenario_command(arguments)
    authority = TokenAuthority(os.environ.get(AUTH_SECRET_ENVIRONMENT) or AUTH_SECRET_DEFAULT)
    try:
        if arguments.command == "up":
            return _up(arguments, authority)
        if arguments.command == "demo":
            endpoints = Endpoints(arguments.custodian, arguments.exchange_address, arguments.bridge)
            run_demo(endpoints, authority, DemoPlan(client=arguments.client, exchange=arguments.exchange))
            return 0
        print(_token_table(load_world(arguments.world), authority))
        return 0
    except WorldError as error:
        print(f"oes: {error}", file=sys.stderr)
        return 2
    except SupervisorError as error:
        print(f"oes: {error}", file=sys.stderr)
        return 1
    except grpc.RpcError as error:
        details = remote_error(error)
        print(f"oes: {details.code.name} {details.reason}: {details.message}", file=sys.stderr)
        return 1


def _scenario_command(arguments: argparse.Namespace) -> int:
    if arguments.scenario_command == "list":
        for path in library_scenarios():
            print(f"{path.stem:<32} {first_comment_line(path)}")
        return 0
    if arguments.scenario_command == "run":
        return _run_scenarios(arguments)
    if arguments.scenario_command == "swarm":
        return _swarm(arguments)
    all_valid = True
    for name_or_path in arguments.scenarios:
        try:
            scenario = load_scenario(find_scenario(name_or_path))
        except ScenarioError as error:
            print(f"{error}", file=sys.stderr)
            all_valid = False
        else:
            print(f"ok {scenario.name}")
    return 0 if all_valid else 2


def _run_scenarios(arguments: argparse.Namespace) -> int:
    names: list[str | Path] = list(arguments.scenarios)
    if arguments.all:
        names += library_scenarios()
    if not names:
        print("oes scenario run: name a scenario file or library scenario, or pass --all", file=sys.stderr)
        return EXIT_INVALID_FILE
    scenarios = []
    for name_or_path in names:
        try:
            scenarios.append(load_scenario(find_scenario(name_or_path)))
        except ScenarioError as error:
            print(f"{error}", file=sys.stderr)
            return EXIT_INVALID_FILE
    return run_scenarios(scenarios, arguments.seed, arguments.report_dir, arguments.compare, arguments.jobs)


def _jobs(text: str) -> int:
    jobs = int(text) if text.isdigit() else 0
    if not 1 <= jobs <= JOBS_MAX:
        raise argparse.ArgumentTypeError(f"expected a whole number from 1 to {JOBS_MAX}, got {text!r}")
    return jobs


def _swarm(arguments: argparse.Namespace) -> int:
    if arguments.seeds < 1 or arguments.first_seed < 0:
        print("oes scenario swarm: --seeds must be positive and --first-seed not negative", file=sys.stderr)
        return EXIT_INVALID_FILE
    seeds = range(arguments.first_seed, arguments.first_seed + arguments.seeds)
    try:
        result = run_swarm(
            seeds, arguments.report_dir, say=lambda message: print(message, flush=True), jobs=arguments.jobs
        )
    except KeyboardInterrupt:
        print("interrupted; the services were stopped", file=sys.stderr)
        return 130
    print(result.summary(), flush=True)
    return result.exit_code


def _add_endpoint_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Endpoints()
    parser.add_argument("--custodian", default=defaults.custodian, help="custodian address")
    parser.add_argument("--exchange-address", default=defaults.exchange, help="exchange address")
    parser.add_argument("--bridge", default=defaults.bridge, help="bridge address")


def _up(arguments: argparse.Namespace, authority: TokenAuthority) -> int:
    world = load_world(arguments.world)
    supervisor = Supervisor(
        world,
        arguments.data_dir,
        arguments.clock,
        ServicePorts(arguments.custodian_port, arguments.exchange_port, arguments.bridge_port),
    )
    stop_requested = threading.Event()

    def request_stop(signal_number: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    print(f"starting the OES sandbox in {supervisor.data_dir} (clock: {arguments.clock}) ...", flush=True)
    endpoints = supervisor.start()
    try:
        seed_world(world, endpoints, authority)
        print(_banner(world, endpoints, authority, supervisor.data_dir), flush=True)
        while not stop_requested.wait(CHECK_INTERVAL_S):
            supervisor.check()
    finally:
        print("stopping the OES sandbox ...", flush=True)
        supervisor.stop()
        print("stopped.", flush=True)
    return 0


def _token_table(world: World, authority: TokenAuthority) -> str:
    principals: list[Principal] = [ADMIN, BRIDGE]
    principals += [Principal(PrincipalKind.EXCHANGE, exchange.identifier) for exchange in world.exchanges]
    principals += [client_principal(client.identifier) for client in world.clients]
    width = max(len(principal.name) for principal in principals)
    return "\n".join(
        f"  {principal.name.ljust(width)}  {authority.issue(principal)}" for principal in principals
    )


def _banner(world: World, endpoints: Endpoints, authority: TokenAuthority, data_dir: Path) -> str:
    client = world.clients[0].identifier if world.clients else "acme"
    client_token = authority.issue(client_principal(client))
    return f"""
OES sandbox is up.

endpoints (gRPC, plaintext; health checking and reflection on every one):
  custodian  {endpoints.custodian}
  exchange   {endpoints.exchange}
  bridge     {endpoints.bridge}

development tokens (send as metadata 'authorization: Bearer <token>'):
{_token_table(world, authority)}

try it:
  buf curl --protocol grpc --http2-prior-knowledge \\
    -H 'authorization: Bearer {client_token}' \\
    -d '{{"owner": "clients/{client}"}}' \\
    http://{endpoints.custodian}/oes.custodian.v1.CustodyService/ListBalances
  oes demo

data and logs: {data_dir} (logs/*.log)
Ctrl-C stops all three services.
"""


if __name__ == "__main__":
    sys.exit(main())
