"""Chaos: real ``mimamori worker`` processes on PostgreSQL, SIGKILLed at random moments.

An operator's bad day, from outside: incidents open while workers are killed every
0.5–2 s (now and then all at once) and restarted; then the kills stop and the workers
drain what is left. Local fake LINE, Twilio and webhook servers answer as the real ones
do — LINE and the webhook honour their retry keys, Twilio keeps none and places every call
it is asked to — and each delivery is traced back to its outbox row (LINE's retry key, the
webhook's Idempotency-Key, the ``attempt`` in a call's or SMS's callback URL), so a lost
message (its row says sent, nobody received it), a duplicate (received twice) and a stuck
one (never settled) are counted, not guessed.

Used by tests/chaos/test_chaos.py (short, in ``make test`` on PostgreSQL) and by
benchmarks/chaos_bench.py (long runs, numbers in benchmarks/results/chaos.txt).
"""

from __future__ import annotations

import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

from flask import Flask, jsonify, request
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.pool import NullPool
from werkzeug.serving import make_server

from bot.dev.line_emulator import FakeLineServer
from bot.dev.twilio_emulator import FakeTwilioServer
from core import db
from core.claims import ClaimKind
from core.enums import Channel, ContactMethod, HomeStatus, IncidentKind, OutboxState
from core.escalation.channels.base import retry_uuid
from core.incidents import open_incident
from core.models import Building, Home, HomeWatcher, OutboxMessage, Resident, Watcher

SID, TOKEN, FROM = "AC" + "c" * 32, "chaos-token", "+815011112222"
LATE_AFTER_CHAOS = timedelta(seconds=30)


@dataclass(frozen=True)
class Policy:
    """An escalation policy for the run: resident calls (or an SMS), family, landlord, dispatch."""

    name: str
    calls: int = 3
    call_interval_min: float = 1.0
    wait_min: float = 1.0
    sms_share: float = 0.0  # homes whose resident is asked by SMS instead

    def snapshot(self, method: str, webhook_url: str) -> dict[str, Any]:
        return {"language": "ja", "steps": [
            {"kind": "contact_resident", "method": method, "attempts": self.calls,
             "interval_minutes": self.call_interval_min, "confirm_within_minutes": self.wait_min},
            {"kind": "alert_family", "wait_minutes": self.wait_min},
            {"kind": "alert_landlord_group", "wait_minutes": self.wait_min},
            {"kind": "alert_dispatch", "email": None, "webhook_url": webhook_url, "wait_minutes": self.wait_min},
        ]}

    def messages(self, method: str) -> int:
        return (self.calls if method == "voice" else 1) + 3


@dataclass
class Config:
    incidents: int = 40
    workers: int = 3
    chaos_seconds: float = 20.0
    open_over_seconds: float = 10.0
    drain_seconds: float = 60.0
    kill_every: tuple[float, float] = (0.5, 2.0)
    kill_all_chance: float = 0.1
    busy_bias: float = 0.7  # chance a kill picks a worker holding outbox rows, when one does
    min_age: float = 10.0  # an idle worker is killed only after this long up (starting takes ~15 s here)
    policy: Policy = field(default_factory=lambda: Policy("fast", 2, 0.1, 0.1))
    latency: float = 0.25  # seconds a provider takes to accept a call, SMS or push (kills land mid-send)
    seed: int = 1
    log_dir: Path = Path("var/chaos")


@dataclass
class Result:
    policy: str
    incidents: int
    kills: int
    expected: int
    deliveries: int
    lost: int
    duplicates: int
    stuck: int
    late: int
    delays: list[float]
    takeovers: list[float]  # kill -> another worker holds (or settled) each row the victim held
    settled_after_kill: list[float]  # kill -> the row recorded as sent (more kills may fall in between)
    pii_leaks: list[str]
    seconds: float
    load: str

    @staticmethod
    def _p(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else \
            (values[0] if values else 0.0)

    def summary(self) -> str:
        d, t, k = self.delays, self.takeovers, self.settled_after_kill
        return (f"policy={self.policy} incidents={self.incidents} kills={self.kills} messages={self.expected} "
                f"deliveries={self.deliveries} lost={self.lost} duplicates={self.duplicates} stuck={self.stuck} "
                f"late={self.late} send_delay_p50={self._p(d, 50):.1f}s p95={self._p(d, 95):.1f}s "
                f"max={max(d, default=0):.1f}s takeover_n={len(t)} p50={self._p(t, 50):.1f}s "
                f"p95={self._p(t, 95):.1f}s max={max(t, default=0):.1f}s "
                f"kill_to_sent_p50={self._p(k, 50):.1f}s p95={self._p(k, 95):.1f}s pii_leaks={len(self.pii_leaks)} "
                f"wall={self.seconds:.0f}s load=[{self.load}]")


class FakeWebhook:
    """A dispatch partner that honours Idempotency-Key: a repeat gets 409 and is not delivered again."""

    def __init__(self) -> None:
        self.first: dict[str, datetime] = {}
        self.repeats: Counter[str] = Counter()
        self.lock = threading.Lock()
        app = Flask("fake_webhook")
        app.add_url_rule("/dispatch", "dispatch", self._post, methods=["POST"])
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/dispatch"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def _post(self) -> Any:
        key = request.headers.get("Idempotency-Key", "")
        with self.lock:
            if key in self.first:
                self.repeats[key] += 1
                return jsonify(status="duplicate"), 409
            self.first[key] = datetime.now(UTC)
        return jsonify(status="accepted"), 200

    def close(self) -> None:
        self._server.shutdown()


def _seed(n: int, policy: Policy, rng: random.Random) -> list[tuple[int, str]]:
    """n homes, each with a resident, a family watcher on LINE and a landlord group: (home id, method)."""
    out = []
    with db.session_scope() as s:
        for i in range(n):
            building = Building(name=f"荘{i}", address="東京都", line_group_id=f"C{i + 1:032x}")
            s.add(building)
            s.flush()
            home = Home(meter_id=f"chaos{i:06d}", status=HomeStatus.ACTIVE, building_id=building.id, unit_label="101")
            s.add(home)
            s.flush()
            method = "sms" if rng.random() < policy.sms_share else "voice"
            s.add(Resident(home_id=home.id, display_name=f"住人{i}", phone=f"+8190{i:08d}",
                           preferred_contact=ContactMethod(method), consent_given_at=datetime.now(UTC)))
            watcher = Watcher(line_user_id=f"U{i + 1:032x}", display_name=f"家族{i}")
            s.add(watcher)
            s.flush()
            s.add(HomeWatcher(home_id=home.id, watcher_id=watcher.id))
            out.append((home.id, method))
    return out


class Chaos:
    def __init__(self, url: str, config: Config) -> None:
        self.url = url
        self.cfg = config
        self.rng = random.Random(config.seed)
        self.admin: Engine = create_engine(url, poolclass=NullPool)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.kills: list[tuple[datetime, list[int]]] = []
        self.killed = 0
        self.spawned = 0
        self.logs: dict[int, Path] = {}
        self.up_since: dict[int, float] = {}
        self.orphans: dict[int, tuple[float, set[int]]] = {}  # row -> (killed at, by whom it was held)
        self.reclaims: list[float] = []
        self.watch_lock = threading.Lock()
        self.opened: list[tuple[int, str]] = []

    # ---- workers ------------------------------------------------------------------
    def _env(self, line: str, twilio: str) -> dict[str, str]:
        return {**os.environ, "DATABASE_URL": self.url, "MIMAMORI_ENV": "dev", "LOG_FORMAT": "json",
                "LOG_LEVEL": "INFO", "PUBLIC_BASE_URL": "http://127.0.0.1:9", "MIMAMORI_SECRET_KEY": "chaos",
                "LINE_CHANNEL_ACCESS_TOKEN": "chaos-line-token", "LINE_API_BASE_URL": line,
                "TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "TWILIO_FROM_NUMBER": FROM,
                "TWILIO_API_BASE_URL": twilio, "WORKER_IDLE_SECONDS": "0.5", "HTTP_TIMEOUT_SECONDS": "10",
                "MIMAMORI_CLOCK_RUNS_WORKERS": "false"}

    def _spawn(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        self.cfg.log_dir.mkdir(parents=True, exist_ok=True)
        self.spawned += 1
        path = self.cfg.log_dir / f"worker-{self.spawned:04d}.log"
        with open(path, "wb") as log:  # the child keeps its own descriptor
            proc = subprocess.Popen([str(Path(sys.executable).with_name("mimamori")), "worker"], env=env,
                                    stdout=log, stderr=subprocess.STDOUT)
        self.logs[proc.pid] = path
        return proc

    def _working(self) -> list[subprocess.Popen[bytes]]:
        """Workers that have been up (their loops running) for ``min_age``: killing one still
        importing proves nothing, and on a busy 2-core machine starting takes many seconds."""
        now = time.monotonic()
        for p in self.procs:
            if p.pid not in self.up_since and b"worker.started" in self.logs[p.pid].read_bytes():
                self.up_since[p.pid] = now
        return [p for p in self.procs if now - self.up_since.get(p.pid, now) >= self.cfg.min_age]

    def _held(self) -> dict[int, list[int]]:
        """Outbox rows each worker (by pid) holds right now."""
        out: dict[int, list[int]] = defaultdict(list)
        with self.admin.connect() as conn:
            for app, row in conn.execute(text(
                "SELECT a.application_name, l.objid::bigint FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
                " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = CAST(:k AS oid)"
                " AND a.datname = current_database()"), {"k": int(ClaimKind.OUTBOX_ROW)}):
                out[int(str(app).rpartition(":")[2] or 0)].append(int(row))
        return out

    def _watch(self, stop: threading.Event) -> None:
        """Take-over: how long a killed worker's rows wait before another worker holds (or has
        settled) them, polled every 0.2 s."""
        while not stop.wait(0.2):
            with self.watch_lock:
                if not self.orphans:
                    continue
                rows = list(self.orphans)
            held = {row: pid for pid, ids in self._held().items() for row in ids}
            with db.session_scope() as s:
                settled = set(s.scalars(select(OutboxMessage.id).where(
                    OutboxMessage.id.in_(rows), OutboxMessage.state != OutboxState.PENDING)))
            now = time.monotonic()
            with self.watch_lock:
                for row in rows:
                    killed_at, dead = self.orphans[row]
                    if row in settled or (row in held and held[row] not in dead):
                        self.reclaims.append(now - killed_at)
                        del self.orphans[row]

    def _pick(self) -> list[subprocess.Popen[bytes]]:
        """More often than not a worker caught holding messages (the moment that used to lose
        calls), whatever its age; else one (now and then all) that has been up ``min_age``."""
        held = self._held()
        busy = [p for p in self.procs if held.get(p.pid)]
        if busy and self.rng.random() < self.cfg.busy_bias:
            return [self.rng.choice(busy)]
        working = self._working()
        if not working or self.rng.random() < self.cfg.kill_all_chance:
            return working
        return [self.rng.choice(working)]

    def _kill(self, victims: list[subprocess.Popen[bytes]], env: dict[str, str]) -> None:
        held_now = self._held()
        held = [r for p in victims for r in held_now.get(p.pid, [])]
        for p in victims:
            p.send_signal(signal.SIGKILL)
        self.killed += len(victims)
        at = datetime.now(UTC)
        self.kills.append((at, held))
        with self.watch_lock:
            for row in held:
                self.orphans.setdefault(row, (time.monotonic(), {p.pid for p in victims}))
        for p in victims:
            p.wait()
            self.procs.remove(p)
            self.procs.append(self._spawn(env))

    def _slow(self) -> None:
        if request.method == "POST":
            time.sleep(self.cfg.latency)

    # ---- incidents ----------------------------------------------------------------
    def _open_all(self, homes: list[tuple[int, str]], webhook: str, stop: threading.Event) -> None:
        per = max(1, len(homes) // 20)
        pause = self.cfg.open_over_seconds / max(1, len(homes) / per)
        for start in range(0, len(homes), per):
            with db.session_scope() as s:
                for home_id, method in homes[start:start + per]:
                    home = s.get(Home, home_id)
                    assert home is not None
                    incident = open_incident(s, home, IncidentKind.NO_WAKE, evidence={},
                                             window_start=datetime.now(UTC) - timedelta(hours=2))
                    assert incident is not None
                    incident.policy_snapshot = self.cfg.policy.snapshot(method, webhook)
                    self.opened.append((home_id, method))
            if stop.wait(pause):
                return

    # ---- the run ------------------------------------------------------------------
    def run(self) -> Result:
        """Seed, start the workers, kill them for a while, drain, count. The caller has pointed
        core.db at ``url`` (an empty, migrated database)."""
        cfg = self.cfg
        started = time.monotonic()
        homes = _seed(cfg.incidents, cfg.policy, self.rng)
        expected = sum(cfg.policy.messages(m) for _, m in homes)
        with FakeLineServer() as line, FakeTwilioServer(SID, TOKEN) as twilio:
            for server in (line, twilio):
                server._server.app.before_request(self._slow)  # type: ignore[attr-defined]
            webhook = FakeWebhook()
            env = self._env(line.url, twilio.url)
            self.procs = [self._spawn(env) for _ in range(cfg.workers)]
            try:
                chaos_end = self._chaos_and_drain(homes, webhook.url, env, expected)
            finally:
                self._stop_workers()
            result = self._result(homes, expected, line, twilio.state, webhook, chaos_end,
                                  time.monotonic() - started)
            webhook.close()
        self.admin.dispose()
        return result

    def _chaos_and_drain(self, homes: list[tuple[int, str]], webhook: str, env: dict[str, str],
                         expected: int) -> datetime:
        cfg = self.cfg
        stop = threading.Event()
        opener = threading.Thread(target=self._open_all, args=(homes, webhook, stop), daemon=True)
        opener.start()
        watcher = threading.Thread(target=self._watch, args=(stop,), daemon=True)
        watcher.start()
        try:
            chaos_until = time.monotonic() + cfg.chaos_seconds
            while time.monotonic() < chaos_until:
                time.sleep(self.rng.uniform(*cfg.kill_every))
                if victims := self._pick():
                    self._kill(victims, env)
            chaos_end = datetime.now(UTC)
            opener.join()
            drain_until = time.monotonic() + cfg.drain_seconds
            while time.monotonic() < drain_until and self._sent() < expected:
                time.sleep(0.5)
        finally:
            stop.set()
        watcher.join()
        return chaos_end

    def _stop_workers(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def _sent(self) -> int:
        with db.session_scope() as s:
            return s.scalar(select(func.count()).select_from(OutboxMessage)
                            .where(OutboxMessage.state == OutboxState.SENT)) or 0

    # ---- counting -----------------------------------------------------------------
    def _deliveries(self, rows: list[OutboxMessage], line: Any, twilio: Any,
                    webhook: FakeWebhook) -> dict[int, list[datetime]]:
        """Every delivery the fakes saw, by outbox row."""
        by_key = {retry_uuid(r.idempotency_key): r.id for r in rows}
        by_attempt = {(r.channel, r.attempt_id): r.id for r in rows if r.attempt_id}
        got: dict[int, list[datetime]] = defaultdict(list)
        for call in line.state.calls:
            got[by_key[call.retry_key]].append(datetime.fromisoformat(call.at))
        for key, at in webhook.first.items():
            got[by_key[key]].append(at)
        for channel, sent in ((Channel.VOICE, twilio.calls), (Channel.SMS, twilio.messages)):
            for item in sent:
                attempt = int(parse_qs(urlparse(item.status_callback or "").query)["attempt"][0])
                got[by_attempt[(channel, attempt)]].append(item.created_at)
        return got

    def _result(self, homes: list[tuple[int, str]], expected: int, line: Any, twilio: Any, webhook: FakeWebhook,
                chaos_end: datetime, seconds: float) -> Result:
        with db.session_scope() as s:
            rows = list(s.scalars(select(OutboxMessage)))
            s.expunge_all()
        got = self._deliveries(rows, line, twilio, webhook)
        delays, late = [], 0
        for r in rows:
            if got.get(r.id):
                first = min(got[r.id])
                delays.append((first - r.created_at).total_seconds())
                late += first > max(r.created_at, chaos_end) + LATE_AFTER_CHAOS
        sent_at = {r.id: r.sent_at for r in rows}
        settled = [(sent_at[row] - at).total_seconds() for at, held in self.kills for row in held
                   if sent_at.get(row) and sent_at[row] > at]
        return Result(
            policy=self.cfg.policy.name, incidents=len(self.opened), kills=self.killed,
            expected=expected, deliveries=sum(len(v) for v in got.values()),
            lost=sum(1 for r in rows if not got.get(r.id)) + max(0, expected - len(rows)),
            duplicates=sum(len(v) - 1 for v in got.values() if len(v) > 1),
            stuck=sum(1 for r in rows if r.state is not OutboxState.SENT),
            late=late, delays=delays, takeovers=list(self.reclaims), settled_after_kill=settled,
            pii_leaks=self._leaks(len(homes)),
            seconds=seconds, load=" ".join(f"{x:.2f}" for x in os.getloadavg()),
        )

    def _leaks(self, n: int) -> list[str]:
        """Phone numbers and LINE ids the workers handled, found anywhere in their logs."""
        logs = "".join(p.read_text(errors="replace") for p in sorted(self.cfg.log_dir.glob("worker-*.log")))
        phones = [f"+8190{i:08d}" for i in range(n)]
        values = [*phones, *(p[1:] for p in phones), *(f"U{i + 1:032x}" for i in range(n)),
                  *(f"C{i + 1:032x}" for i in range(n))]
        return [v for v in values for form in {v, quote(v, safe="")} if form in logs]
