"""In-memory claims for the use-case tests, kept in the fake store's state."""

from __future__ import annotations

import dataclasses

from custodian_sim.domain.entry_outcomes import Claim, ClaimClosure


class FakeClaimRepository:
    def __init__(self, claims: list[Claim]) -> None:
        self._claims = claims

    def next_number(self) -> int:
        return len(self._claims) + 1

    def add(self, claim: Claim) -> None:
        assert claim.number == len(self._claims) + 1, "claims are numbered in order"
        self._claims.append(claim)

    def list_after(self, party: str | None, after_number: int, limit: int) -> list[Claim]:
        found = [
            claim
            for claim in self._claims
            if claim.number > after_number and (party is None or claim.involves(party))
        ]
        return found[:limit]

    def open_for_exchange(self, exchange: str) -> list[Claim]:
        return [
            claim
            for claim in self._claims
            if claim.closure is None and claim.draft.statement.startswith(f"{exchange}/statements/")
        ]

    def close(self, closure: ClaimClosure, close_time_ms: int) -> None:
        claim = self._claims[closure.claim_number - 1]
        assert claim.closure is None, "a claim is closed once"
        self._claims[closure.claim_number - 1] = dataclasses.replace(claim, closure=closure)
