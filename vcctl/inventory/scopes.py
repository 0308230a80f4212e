"""Where a key lives, in words and as the command that frees exactly it.

A key is unique in (account, kind, scope, key). The scopes:

- plain (`""`): room keys given by `rooms create --key`, batch rows, a stack file without `stack`;
- a room's id: participant keys given by `participants create --key`, batch rows, a stack file
  without `stack` (participant keys are scoped by their room);
- `stack:NAME`: the room keys of stack NAME; `stack:NAME/ROOMKEY`: the participant keys of the
  room ROOMKEY of that stack. Stacks never share a key with each other or with the plain scope.

Pure text work: no store, no SQL.
"""

from __future__ import annotations

import shlex
from typing import NamedTuple

from vcctl.resources import Kind

PLAIN = ""
STACK_PREFIX = "stack:"


def room_scope(stack: str | None) -> str:
    """The scope of a stack's room keys (plain without a stack)."""
    return PLAIN if stack is None else f"{STACK_PREFIX}{stack}"


def stack_participant_scope(stack: str, room_key: str) -> str:
    """The scope of the participant keys of one room of a stack."""
    return f"{STACK_PREFIX}{stack}/{room_key}"


class Scope(NamedTuple):
    """A scope taken apart: the stack it belongs to (None: no stack) and, for participant keys,
    their room (its key within the stack, or its id without a stack)."""

    stack: str | None
    room: str | None

    @classmethod
    def of(cls, kind: Kind, scope: str) -> Scope:
        stack: str | None = None
        room: str | None = None
        if scope.startswith(STACK_PREFIX):
            rest = scope[len(STACK_PREFIX) :]
            if kind == "participant" and "/" in rest:
                stack, room = rest.split("/", 1)
            else:
                stack = rest
        elif kind == "participant":
            room = scope
        return cls(stack, room or None)

    def words(self) -> str:
        """`stack weekly`, `room Ab12`, `stack weekly, room board`; empty for the plain scope."""
        parts = []
        if self.stack is not None:
            parts.append(f"stack {self.stack}")
        if self.room is not None:
            parts.append(f"room {self.room}")
        return ", ".join(parts)


def describe(kind: Kind, scope: str, key: str) -> str:
    """`room key 'board'`, `room key 'board' (stack weekly)`, `participant key 'ada' (room
    Ab12)`: how messages name a key."""
    where = Scope.of(kind, scope).words()
    return f"{kind} key {key!r}" + (f" ({where})" if where else "")


def forget_command(kind: Kind, scope: str, key: str, *, alone: bool) -> str:
    """The `vcctl inventory forget` command that frees exactly this key.

    `alone`: no other scope of the account has a key of this name, so `--key KEY` by itself
    names it (plain and room-less keys then need no more); otherwise the scope is spelt out, and
    a plain room key is named with `--no-stack`.
    """
    parsed = Scope.of(kind, scope)
    words = ["vcctl", "inventory", "forget", "--key", shlex.quote(key)]
    if parsed.stack is not None:
        words += ["--stack", shlex.quote(parsed.stack)]
    if parsed.room is not None:
        words += ["--room", shlex.quote(parsed.room)]
    elif parsed.stack is None and not alone:
        words.append("--no-stack")
    return " ".join(words)


def selects(kind: Kind, scope: str, *, stack: str | None, room: str | None, no_stack: bool) -> bool:
    """Whether `forget --key` with these options names a key of this kind and scope: `--stack`
    keeps that stack's keys, `--no-stack` the keys of no stack, `--room` a room's participant
    keys (the room's key with `--stack`, its id without); no option keeps every scope."""
    parsed = Scope.of(kind, scope)
    if stack is not None and parsed.stack != stack:
        return False
    if no_stack and parsed.stack is not None:
        return False
    if room is not None:
        return kind == "participant" and parsed.room == room
    if stack is not None or no_stack:
        return kind == "room"
    return True
