"""Every flow, declared once (importing this registers them with the engine)."""

from __future__ import annotations

from bot.flows import choose_home, climate, email, group_link, join, pause, register, times
from bot.flows.engine import register as _register

ALL = tuple(_register(m.FLOW) for m in (register, times, pause, climate, join, group_link, email, choose_home))
