"""SQLite repositories of whitelisted addresses, approval policies and withdrawals, and their tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from custodian_sim.domain.withdrawals import (
    WhitelistAddress,
    WhitelistAddressName,
    Withdrawal,
    WithdrawalName,
    WithdrawalPolicy,
    WithdrawalState,
)

# Appended to the custodian's MIGRATIONS. A whitelist entry never changes; a withdrawal's
# request (amount, destination, approvers it started with) never changes, only its state,
# approvals and times move on. Foreign keys are deferred to commit, as in the ledger schema,
# so that Reset can empty the tables in any order.
WITHDRAWALS_SCHEMA = """
CREATE TABLE whitelist_addresses (
    name TEXT PRIMARY KEY,
    client TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    number INTEGER NOT NULL CHECK (number >= 1),
    asset TEXT NOT NULL,
    address TEXT NOT NULL CHECK (length(address) BETWEEN 1 AND 128),
    label TEXT NOT NULL,
    create_time_ms INTEGER NOT NULL,
    usable_time_ms INTEGER NOT NULL CHECK (usable_time_ms >= create_time_ms),
    UNIQUE (client, number),
    UNIQUE (client, asset, address)
) WITHOUT ROWID;

CREATE TRIGGER whitelist_addresses_are_immutable BEFORE UPDATE ON whitelist_addresses
BEGIN
    SELECT RAISE(ABORT, 'a whitelisted address is never updated');
END;

CREATE TABLE withdrawal_policies (
    client TEXT PRIMARY KEY REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    quorum INTEGER NOT NULL CHECK (quorum >= 1)
) WITHOUT ROWID;

CREATE TABLE withdrawal_policy_thresholds (
    client TEXT NOT NULL REFERENCES withdrawal_policies (client) DEFERRABLE INITIALLY DEFERRED,
    asset TEXT NOT NULL,
    threshold_units INTEGER NOT NULL CHECK (threshold_units > 0),
    PRIMARY KEY (client, asset)
) WITHOUT ROWID;

CREATE TABLE withdrawal_policy_approvers (
    client TEXT NOT NULL REFERENCES withdrawal_policies (client) DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL CHECK (position >= 0),
    approver TEXT NOT NULL,
    PRIMARY KEY (client, position),
    UNIQUE (client, approver)
) WITHOUT ROWID;

CREATE TABLE withdrawals (
    name TEXT PRIMARY KEY,
    client TEXT NOT NULL REFERENCES parties (name) DEFERRABLE INITIALLY DEFERRED,
    number INTEGER NOT NULL CHECK (number >= 1),
    asset TEXT NOT NULL,
    amount_units INTEGER NOT NULL CHECK (amount_units > 0),
    address TEXT NOT NULL,
    whitelist_address TEXT NOT NULL
        REFERENCES whitelist_addresses (name) DEFERRABLE INITIALLY DEFERRED,
    state TEXT NOT NULL CHECK (state IN ('PENDING_APPROVAL', 'BROADCAST', 'CONFIRMED', 'CANCELLED')),
    approvals_required INTEGER NOT NULL CHECK (approvals_required >= 0),
    create_time_ms INTEGER NOT NULL,
    broadcast_time_ms INTEGER,
    confirm_time_ms INTEGER,
    UNIQUE (client, number)
) WITHOUT ROWID;
CREATE INDEX withdrawals_by_state ON withdrawals (state, client, number);

CREATE TRIGGER withdrawals_request_is_immutable
BEFORE UPDATE OF name, client, number, asset, amount_units, address, whitelist_address,
    approvals_required, create_time_ms ON withdrawals
BEGIN
    SELECT RAISE(ABORT, 'a withdrawal''s request is never updated; only its state moves on');
END;

-- The approvers the policy named when the withdrawal was requested.
CREATE TABLE withdrawal_eligible_approvers (
    withdrawal TEXT NOT NULL REFERENCES withdrawals (name) DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL CHECK (position >= 0),
    approver TEXT NOT NULL,
    PRIMARY KEY (withdrawal, position),
    UNIQUE (withdrawal, approver)
) WITHOUT ROWID;

-- Approvals given, in order; appended, never edited.
CREATE TABLE withdrawal_approvals (
    withdrawal TEXT NOT NULL REFERENCES withdrawals (name) DEFERRABLE INITIALLY DEFERRED,
    position INTEGER NOT NULL CHECK (position >= 0),
    approver TEXT NOT NULL,
    PRIMARY KEY (withdrawal, position),
    UNIQUE (withdrawal, approver)
) WITHOUT ROWID;

CREATE TRIGGER withdrawal_approvals_are_immutable BEFORE UPDATE ON withdrawal_approvals
BEGIN
    SELECT RAISE(ABORT, 'an approval is never updated');
END;
"""

_WHITELIST_COLUMNS = "client, number, asset, address, label, create_time_ms, usable_time_ms"


def _client_id(client: str) -> str:
    return client.partition("/")[2]


def _whitelist_from_row(row: Sequence[Any]) -> WhitelistAddress:
    client, number, asset, address, label, create_time_ms, usable_time_ms = row
    return WhitelistAddress(
        WhitelistAddressName(_client_id(client), number),
        asset,
        address,
        label,
        create_time_ms,
        usable_time_ms,
    )


class SqliteWhitelistAddressRepository:
    """Whitelisted addresses in `whitelist_addresses`."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def find(self, client: str, asset: str, address: str) -> WhitelistAddress | None:
        """Returns the client's entry for this asset and address, if whitelisted."""
        row = self._database.execute(
            f"SELECT {_WHITELIST_COLUMNS} FROM whitelist_addresses "
            "WHERE client = ? AND asset = ? AND address = ?",
            (client, asset, address),
        ).fetchone()
        return None if row is None else _whitelist_from_row(row)

    def count(self, client: str) -> int:
        """How many addresses the client has whitelisted."""
        count: int = self._database.execute(
            "SELECT count(*) FROM whitelist_addresses WHERE client = ?", (client,)
        ).fetchone()[0]
        return count

    def list_for_client(self, client: str) -> list[WhitelistAddress]:
        """Every entry of the client, in the order they were added."""
        rows = self._database.execute(
            f"SELECT {_WHITELIST_COLUMNS} FROM whitelist_addresses WHERE client = ? ORDER BY number",
            (client,),
        ).fetchall()
        return [_whitelist_from_row(row) for row in rows]

    def add(self, entry: WhitelistAddress) -> None:
        """Stores a new entry."""
        self._database.execute(
            f"INSERT INTO whitelist_addresses (name, {_WHITELIST_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.name.name,
                entry.name.client,
                entry.name.number,
                entry.asset,
                entry.address,
                entry.label,
                entry.create_time_ms,
                entry.usable_time_ms,
            ),
        )


class SqliteWithdrawalPolicyRepository:
    """Approval policies in `withdrawal_policies` with their thresholds and approvers."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, client: str) -> WithdrawalPolicy | None:
        """Returns the client's policy, if one was set."""
        row = self._database.execute(
            "SELECT quorum FROM withdrawal_policies WHERE client = ?", (client,)
        ).fetchone()
        if row is None:
            return None
        thresholds = {
            asset: units
            for asset, units in self._database.execute(
                "SELECT asset, threshold_units FROM withdrawal_policy_thresholds WHERE client = ?", (client,)
            ).fetchall()
        }
        approvers = tuple(
            approver
            for (approver,) in self._database.execute(
                "SELECT approver FROM withdrawal_policy_approvers WHERE client = ? ORDER BY position",
                (client,),
            ).fetchall()
        )
        return WithdrawalPolicy(client, thresholds, approvers, row[0])

    def put(self, policy: WithdrawalPolicy) -> None:
        """Stores the policy, replacing the client's previous one."""
        self._database.execute(
            "INSERT INTO withdrawal_policies (client, quorum) VALUES (?, ?) "
            "ON CONFLICT (client) DO UPDATE SET quorum = excluded.quorum",
            (policy.client, policy.quorum),
        )
        self._database.execute("DELETE FROM withdrawal_policy_thresholds WHERE client = ?", (policy.client,))
        self._database.execute("DELETE FROM withdrawal_policy_approvers WHERE client = ?", (policy.client,))
        self._database.conn.executemany(
            "INSERT INTO withdrawal_policy_thresholds (client, asset, threshold_units) VALUES (?, ?, ?)",
            [(policy.client, asset, units) for asset, units in sorted(policy.thresholds.items())],
        )
        self._database.conn.executemany(
            "INSERT INTO withdrawal_policy_approvers (client, position, approver) VALUES (?, ?, ?)",
            [(policy.client, position, approver) for position, approver in enumerate(policy.approvers)],
        )


_WITHDRAWAL_COLUMNS = (
    "name, client, number, asset, amount_units, address, whitelist_address, state, approvals_required, "
    "create_time_ms, broadcast_time_ms, confirm_time_ms"
)


class SqliteWithdrawalRepository:
    """Withdrawals in `withdrawals`, with their eligible approvers and approvals."""

    def __init__(self, database: sqlite_utils.Database) -> None:
        self._database = database

    def get(self, name: WithdrawalName) -> Withdrawal | None:
        """Returns the withdrawal, if requested."""
        row = self._database.execute(
            f"SELECT {_WITHDRAWAL_COLUMNS} FROM withdrawals WHERE name = ?", (name.name,)
        ).fetchone()
        return None if row is None else self._from_row(row)

    def next_number(self, client: str) -> int:
        """The number of the client's next withdrawal, from 1."""
        number: int = self._database.execute(
            "SELECT coalesce(max(number), 0) + 1 FROM withdrawals WHERE client = ?", (client,)
        ).fetchone()[0]
        return number

    def add(self, withdrawal: Withdrawal) -> None:
        """Stores a new withdrawal."""
        self._database.execute(
            f"INSERT INTO withdrawals ({_WITHDRAWAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                withdrawal.name.name,
                withdrawal.client,
                withdrawal.name.number,
                withdrawal.asset,
                withdrawal.amount_units,
                withdrawal.address,
                withdrawal.whitelist_address.name,
                withdrawal.state.value,
                withdrawal.approvals_required,
                withdrawal.create_time_ms,
                withdrawal.broadcast_time_ms,
                withdrawal.confirm_time_ms,
            ),
        )
        self._database.conn.executemany(
            "INSERT INTO withdrawal_eligible_approvers (withdrawal, position, approver) VALUES (?, ?, ?)",
            [
                (withdrawal.name.name, position, approver)
                for position, approver in enumerate(withdrawal.eligible_approvers)
            ],
        )
        self._insert_approvals(withdrawal, 0)

    def update(self, withdrawal: Withdrawal) -> None:
        """Stores a withdrawal's new state, approvals and times."""
        stored_count: int = self._database.execute(
            "SELECT count(*) FROM withdrawal_approvals WHERE withdrawal = ?", (withdrawal.name.name,)
        ).fetchone()[0]
        assert stored_count <= len(withdrawal.approvers), "approvals are only ever added"
        cursor = self._database.execute(
            "UPDATE withdrawals SET state = ?, broadcast_time_ms = ?, confirm_time_ms = ? WHERE name = ?",
            (
                withdrawal.state.value,
                withdrawal.broadcast_time_ms,
                withdrawal.confirm_time_ms,
                withdrawal.name.name,
            ),
        )
        assert cursor.rowcount == 1, f"{withdrawal.name.name} was never stored"
        self._insert_approvals(withdrawal, stored_count)

    def list_for_client(self, client: str, limit: int) -> list[Withdrawal]:
        """Up to `limit` of the client's withdrawals, newest first."""
        rows = self._database.execute(
            f"SELECT {_WITHDRAWAL_COLUMNS} FROM withdrawals WHERE client = ? ORDER BY number DESC LIMIT ?",
            (client, limit),
        ).fetchall()
        return [self._from_row(row) for row in rows]

    def list_in_state(
        self, state: WithdrawalState, after: WithdrawalName | None, limit: int
    ) -> list[Withdrawal]:
        """Up to `limit` withdrawals in `state` after `after`, ordered by client then number."""
        after_key = ("", 0) if after is None else (after.client, after.number)
        rows = self._database.execute(
            f"SELECT {_WITHDRAWAL_COLUMNS} FROM withdrawals WHERE state = ? AND (client, number) > (?, ?) "
            "ORDER BY client, number LIMIT ?",
            (state.value, *after_key, limit),
        ).fetchall()
        return [self._from_row(row) for row in rows]

    def _insert_approvals(self, withdrawal: Withdrawal, first_position: int) -> None:
        self._database.conn.executemany(
            "INSERT INTO withdrawal_approvals (withdrawal, position, approver) VALUES (?, ?, ?)",
            [
                (withdrawal.name.name, position, approver)
                for position, approver in enumerate(withdrawal.approvers)
                if position >= first_position
            ],
        )

    def _approvers(self, table: str, name: str) -> tuple[str, ...]:
        assert table in ("withdrawal_eligible_approvers", "withdrawal_approvals"), table
        return tuple(
            approver
            for (approver,) in self._database.execute(
                f"SELECT approver FROM {table} WHERE withdrawal = ? ORDER BY position", (name,)
            ).fetchall()
        )

    def _from_row(self, row: Sequence[Any]) -> Withdrawal:
        (
            name,
            client,
            number,
            asset,
            amount_units,
            address,
            whitelist_address,
            state,
            approvals_required,
            create_time_ms,
            broadcast_time_ms,
            confirm_time_ms,
        ) = row
        return Withdrawal(
            name=WithdrawalName(_client_id(client), number),
            asset=asset,
            amount_units=amount_units,
            address=address,
            whitelist_address=WhitelistAddressName.parse(whitelist_address, "whitelist_address"),
            state=WithdrawalState(state),
            eligible_approvers=self._approvers("withdrawal_eligible_approvers", name),
            approvals_required=approvals_required,
            approvers=self._approvers("withdrawal_approvals", name),
            create_time_ms=create_time_ms,
            broadcast_time_ms=broadcast_time_ms,
            confirm_time_ms=confirm_time_ms,
        )
