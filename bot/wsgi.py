"""The web process's WSGI entry (the Procfile's ``web`` line): the app, then the garbage
collector told to leave what importing and building it made alone.

Why: a web process holds some 265,000 objects from its imports (Flask, SQLAlchemy, the
models, numpy and matplotlib for the graphs, the text catalogs). A full (generation 2)
collection walks them all: 130 ms alone, 150-370 ms on a busy 2-core machine, and while it
runs every request of the process waits (the GIL). Measured with benchmarks/webhook_bench.py
on PostgreSQL, that was the one stall per sustained run that set /callback's p95 at 100-200 ms.
``gc.freeze()`` moves those long-lived objects to the permanent generation, so a collection
walks only what requests made since.
"""

from __future__ import annotations

import gc

from bot.app import create_app

app = create_app()
gc.freeze()
