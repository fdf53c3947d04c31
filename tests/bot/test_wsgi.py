"""The web process's entry (Procfile ``web``): the app is built, then the objects its imports
made are frozen out of the garbage collector's walks (bot/wsgi.py says why)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_procfile_web_process_serves_the_frozen_wsgi_app(tmp_path: Path) -> None:
    web = next(line for line in (REPO / "Procfile").read_text().splitlines() if line.startswith("web:"))
    assert web.split()[-1] == "bot.wsgi:app"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    probe = "import gc, bot.wsgi as w; print(type(w.app).__name__, gc.get_freeze_count())"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    kind, frozen = done.stdout.split()
    assert kind == "Flask"
    assert int(frozen) > 50_000  # the imports' objects: a full collection no longer walks them
