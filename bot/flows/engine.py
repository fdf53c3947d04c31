"""Runs declared flows: start, feed an answer, ask again on a bad one, cancel, expire.

State lives in ConversationState (one row per chat), so any gunicorn thread or process
can continue a conversation, and an idle one expires.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from bot.context import Ctx
from bot.flows.base import END, Answer, Conv, Flow
from core import clock
from core.errors import AccessDenied, NotFound, ValidationError
from core.models import ConversationState

CANCEL_WORDS = frozenset({"キャンセル", "やめる", "やめます", "中止", "cancel", "stop", "quit"})

_REGISTRY: dict[str, Flow] = {}


def register(flow: Flow) -> Flow:
    if flow.name in _REGISTRY:
        raise ValueError(f"flow {flow.name!r} registered twice")
    _REGISTRY[flow.name] = flow
    return flow


def flows() -> dict[str, Flow]:
    import bot.flows.catalog  # noqa: F401  (declares every flow)

    return _REGISTRY


def by_trigger(text: str, is_group: bool) -> Flow | None:
    for flow in flows().values():
        if text in flow.triggers and (flow.groups or not is_group):
            return flow
    return None


def _row(ctx: Ctx) -> ConversationState | None:
    row = ctx.session.scalar(select(ConversationState).where(ConversationState.chat_id == ctx.chat_id))
    if row is not None and row.expires_at <= clock.now():
        ctx.session.delete(row)
        ctx.session.flush()
        return None
    return row


def active(ctx: Ctx) -> ConversationState | None:
    return _row(ctx)


def _conv(row: ConversationState) -> Conv:
    data = dict(row.data or {})
    return Conv(row.flow, row.step, str(data.pop("_nonce", "")), data)


def _save(ctx: Ctx, flow: Flow, conv: Conv) -> None:
    row = _row(ctx)
    payload = {**conv.data, "_nonce": conv.nonce}
    if row is None:
        row = ConversationState(chat_id=ctx.chat_id, flow=flow.name, step=conv.step, data=payload,
                                expires_at=clock.now() + flow.ttl)
        ctx.session.add(row)
    else:
        row.flow, row.step, row.data = flow.name, conv.step, payload
        row.updated_at = clock.now()
        row.expires_at = clock.now() + flow.ttl
    ctx.session.flush()


def end(ctx: Ctx) -> bool:
    row = _row(ctx)
    if row is None:
        return False
    ctx.session.delete(row)
    ctx.session.flush()
    return True


def start(ctx: Ctx, flow: Flow, data: dict | None = None) -> None:
    """Begin ``flow`` (replacing any flow in progress) and ask its first question.

    ``on_start`` may refuse (returns None, having said why; a flow in progress is kept) or
    hand over to another flow (e.g. "which home?") that starts this one afterwards.
    """
    if data is None:
        data = flow.on_start(ctx) if flow.on_start else {}
        if data is None:
            return
    conv = Conv(flow.name, flow.start.value, secrets.token_hex(4), data)
    _save(ctx, flow, conv)
    flow.steps[flow.start].ask(ctx, conv)


def _advance(ctx: Ctx, flow: Flow, conv: Conv, answer: Answer) -> None:
    step = flow.steps[flow.state(conv.step)]
    try:
        nxt = flow.next_state(step.handle(ctx, conv, answer))
    except ValidationError as exc:
        ctx.say(f"bot.error.{exc.code}", **{k: v for k, v in exc.params.items() if isinstance(v, int | str)})
        step.ask(ctx, conv)
        _save(ctx, flow, conv)  # keep what was gathered so far (and extend expiry)
        return
    except (AccessDenied, NotFound):
        ctx.say("bot.not_allowed")
        end(ctx)
        return
    if nxt == END:
        row = _row(ctx)
        if row is not None and row.flow == flow.name and _conv(row).nonce == conv.nonce:
            end(ctx)  # (unless the handler started another flow in this chat)
        return
    conv.step = nxt
    conv.nonce = secrets.token_hex(4)
    _save(ctx, flow, conv)
    flow.steps[flow.state(nxt)].ask(ctx, conv)


def feed_text(ctx: Ctx, text: str) -> bool:
    """Give typed text to the chat's flow; False if no flow is waiting."""
    row = _row(ctx)
    if row is None or row.flow not in flows():
        return False
    flow = flows()[row.flow]
    if text in flow.triggers:  # 「登録」 again while registering: pick up where it was
        ctx.say("bot.flow.resumed")
        flow.steps[flow.state(row.step)].ask(ctx, _conv(row))
        return True
    _advance(ctx, flow, _conv(row), Answer(text=text))
    return True


def feed_postback(ctx: Ctx, fields: dict[str, str], params: dict[str, str]) -> None:
    """A flow button was tapped: only the buttons of the current step still work."""
    row = _row(ctx)
    if (
        row is None
        or row.flow != fields.get("f")
        or row.step != fields.get("s")
        or _conv(row).nonce != fields.get("n")
        or row.flow not in flows()
    ):
        ctx.say("bot.stale_button")
        return
    _advance(ctx, flows()[row.flow], _conv(row), Answer(fields=fields, params=params))


def cancel(ctx: Ctx) -> None:
    ctx.say("bot.cancelled" if end(ctx) else "bot.nothing_to_cancel")
