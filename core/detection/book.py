"""Which findings become incidents: the rules shared by the live scheduler and replays.

Live keeps this state in the Incident table, a replay in memory; both ask :func:`step`, and
both remember a raise for MEMORY_SLOTS (live loads the incidents detected that recently).
- one open incident per home and kind, and one situation ("episode") raises once: an
  incident closed by a watcher is not reopened while the same situation lasts;
- one emergency at a time per home (the chain already underway covers the others);
- an open emergency closes as soon as use above standby is seen after it opened, and that
  raises a ``usage_resumed`` notice ("woke up");
- an open notice closes when its condition no longer holds;
- a quiet detector that saw no sustained use in its window names the situation by the newest
  in the week before it (core/detection/lookback.py); a detector that finds none reports the
  episode ``UNKNOWN`` ("quiet since before the window"): that situation is the one last
  raised unless sustained use was seen (a ``usage_resumed`` remembers the newest) after that
  raise, so a long quiet stretch still raises once, and a lone spike inside it (a fridge
  defrost during a trip) closes the emergency without making the stretch a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.enums import EMERGENCY_KINDS, IncidentKind

EMERGENCY_GROUP = "emergency"
UNKNOWN = -1  # episode of a situation that began before the detection window
# How long a raise is remembered: live loads the incidents detected this recently (and every open
# one), a replay forgets the same. At least the window (2 days) and the week before it that a quiet
# detector looks back over (core/detection/lookback.py), so a situation whose start is in view is known.
MEMORY_SLOTS = 9 * 48


def group_of(kind: IncidentKind) -> str:
    return EMERGENCY_GROUP if kind in EMERGENCY_KINDS else kind.value


@dataclass
class HomeBook:
    """One home's incident state: open kinds -> their episode; last episode raised per group."""

    open: dict[IncidentKind, int] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    seen_at: dict[str, int] = field(default_factory=dict)  # slot each group's last raise was seen (replays)

    def forget(self, now: int) -> None:
        """Drop what was raised more than MEMORY_SLOTS before ``now`` in groups with nothing open,
        as the live cycle's book (built from recent and open incidents) does."""
        open_groups = {group_of(kind) for kind in self.open}
        for group, at in list(self.seen_at.items()):
            if now - at > MEMORY_SLOTS and group not in open_groups:
                del self.seen[group], self.seen_at[group]


@dataclass(frozen=True)
class Raised:
    kind: IncidentKind
    episode: int
    window_start: int  # slot
    usage: int | None = None  # newest slot of any use when raised (default: the episode)


@dataclass
class StepResult:
    opened: list[Raised] = field(default_factory=list)
    closed: list[IncidentKind] = field(default_factory=list)
    usage_closed: list[IncidentKind] = field(default_factory=list)


def step(
    book: HomeBook, fired: list[Raised], usage: dict[IncidentKind, int], awake: dict[IncidentKind, int] | None = None,
    now: int | None = None,
) -> StepResult:
    """Apply one evaluation of one home to its book (mutated) and say what changed.

    ``fired`` lists the findings that fire now, in detector-table order (so the first
    emergency wins); ``usage`` holds every detector's newest half-hour with use (ups and
    downs, for flat use) whether it fires or not: a newer one than at opening means usage
    resumed. A new emergency needs a new episode (sustained use since the last one), so a
    lone spike during a trip closes the incident but does not raise another. ``awake`` holds
    every detector's episode (its newest sustained use) whether it fires or not; without it
    the use that closed an emergency is taken as sustained. ``now`` (a replay's slot) dates what
    is raised, for :meth:`HomeBook.forget`.
    """
    result = StepResult()
    fired_kinds = {r.kind for r in fired}
    for kind, episode in list(book.open.items()):
        if kind in EMERGENCY_KINDS:
            if usage.get(kind, episode) > episode:
                del book.open[kind]
                result.usage_closed.append(kind)
        elif kind not in fired_kinds:
            del book.open[kind]
            result.closed.append(kind)
    if result.usage_closed:
        seen_slot = max(usage.get(k, -1) for k in result.usage_closed)
        sustained = seen_slot if awake is None else max(awake.get(k, -1) for k in result.usage_closed)
        result.opened.append(Raised(IncidentKind.USAGE_RESUMED, sustained, seen_slot))
        group = group_of(IncidentKind.USAGE_RESUMED)
        book.seen[group] = max(book.seen.get(group, -(2**62)), sustained)
        _dated(book, group, now)
    emergency_open = any(k in EMERGENCY_KINDS for k in book.open)
    for r in fired:
        group = group_of(r.kind)
        if r.episode == UNKNOWN:
            r = replace(r, episode=_episode_before_window(book, group))
        if r.kind in book.open or r.episode <= book.seen.get(group, -(2**62)):
            continue
        if r.kind in EMERGENCY_KINDS:
            if emergency_open:
                continue
            emergency_open = True
        book.open[r.kind] = r.episode if r.usage is None else r.usage
        book.seen[group] = r.episode
        _dated(book, group, now)
        result.opened.append(r)
    return result


def _dated(book: HomeBook, group: str, now: int | None) -> None:
    if now is not None:
        book.seen_at[group] = now


def _episode_before_window(book: HomeBook, group: str) -> int:
    """The episode of a situation that began before the window: the newest use the book
    knows of (a ``usage_resumed``), so it is new only if use was seen after the last raise."""
    resumed = book.seen.get(group_of(IncidentKind.USAGE_RESUMED))
    return UNKNOWN if resumed is None else resumed
