"""Who is calling and with which request: set per RPC by the interceptor, read by audit records."""

from __future__ import annotations

import contextvars
from dataclasses import dataclass


@dataclass(frozen=True)
class CallContext:
    """The call being served: principal name, RPC method short name and request_id."""

    principal: str
    method: str
    request_id: str


# Work that no RPC caused, such as a timer confirming a withdrawal, is done by the system.
SYSTEM_CALL = CallContext(principal="system", method="", request_id="")

_current_call: contextvars.ContextVar[CallContext] = contextvars.ContextVar("call", default=SYSTEM_CALL)


def current_call() -> CallContext:
    """Returns the call being served, or SYSTEM_CALL outside any RPC (timers, start-up)."""
    return _current_call.get()


def enter_call(call: CallContext) -> contextvars.Token[CallContext]:
    """Marks the start of serving `call`; the interceptor resets it when the call ends."""
    return _current_call.set(call)


def exit_call(token: contextvars.Token[CallContext]) -> None:
    """Marks the end of the call."""
    _current_call.reset(token)
