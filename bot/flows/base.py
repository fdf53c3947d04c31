"""Conversations as data: a flow declares its states, entry words, steps and fallbacks.

A step has an ``ask`` (what the bot says on entering the state) and a ``handle`` (what an
answer does: return the next state, or :data:`END`, or raise ValidationError to ask again
with an error code). The declaration is checked when built, so a missing state or a
handler pointing nowhere fails at import, not in a user's chat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from bot.context import Ctx

END = "__end__"


@dataclass
class Answer:
    """What the user sent: typed text, or a button's postback (its fields and picker params)."""

    text: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def value(self) -> str | None:
        return self.fields.get("v", self.text)


@dataclass
class Conv:
    """One chat's place in a flow (mirrors the ConversationState row)."""

    flow: str
    step: str
    nonce: str
    data: dict[str, Any]

    def button(self, value: str, **extra: object) -> str:
        """Postback data for a button of the current step: stale once the step moves on."""
        from bot.messages.build import data

        return data(f=self.flow, s=self.step, n=self.nonce, v=value, **extra)


AskFn = Callable[[Ctx, Conv], None]
HandleFn = Callable[[Ctx, Conv, Answer], str]
StartFn = Callable[[Ctx], dict[str, Any] | None]


@dataclass(frozen=True)
class Step:
    ask: AskFn
    handle: HandleFn


class FlowDeclarationError(Exception):
    pass


@dataclass(frozen=True)
class Flow:
    name: str
    states: type[StrEnum]
    start: StrEnum
    steps: Mapping[StrEnum, Step]
    triggers: tuple[str, ...] = ()
    on_start: StartFn | None = None  # prepares data, or says why not and returns None
    ttl: timedelta = timedelta(minutes=30)
    groups: bool = False  # may run in a group chat

    def __post_init__(self) -> None:
        missing = [s for s in self.states if s not in self.steps]
        extra = [s for s in self.steps if s not in set(self.states)]
        if self.start not in set(self.states):
            raise FlowDeclarationError(f"{self.name}: start {self.start!r} is not one of its states")
        if missing or extra:
            raise FlowDeclarationError(f"{self.name}: states without a step {missing}, steps without a state {extra}")
        if any(s.value == END for s in self.states):
            raise FlowDeclarationError(f"{self.name}: {END!r} is reserved")
        for state, step in self.steps.items():
            if not callable(step.ask) or not callable(step.handle):
                raise FlowDeclarationError(f"{self.name}.{state}: ask and handle must be callables")

    def state(self, value: str) -> StrEnum:
        return self.states(value)

    def next_state(self, value: str) -> str:
        """Check a handler's answer names a real state (or END)."""
        if value != END and value not in {s.value for s in self.states}:
            raise FlowDeclarationError(f"{self.name}: handler returned unknown state {value!r}")
        return value
