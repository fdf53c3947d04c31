"""Detection: learn each home's normal day, notice "not like usual" sooner, without crying wolf.

Pure numpy, no I/O, vectorised over rows (a row = one home at one "now"):

- ``timeaxis``   half-hour slots, local (JST) half-hour of day, weekday vs weekend/holiday
- ``baseline``   :func:`learn` from the last 56 days: night-vs-usual likelihood-ratio tables
                 (weekday/rest-day x half-hour), base load, activity level, learned wake/sleep,
                 the register's step rhythm, usual day kWh, watchability, and the tail of
                 the home's own quiet episodes
- ``baseline_pack`` one home's baseline as packed bytes (HomeBaseline.packed), generic over fields
- ``survival``   how high the home's own quiet episodes go; the alarm level a budget allows
- ``engine``     :class:`DetectionInput`, :class:`Sensitivity`, shared per-row series
- ``detectors``  the declared detector table and :func:`evaluate` (the one code path)
- ``book``       which findings become incidents (:func:`step`), shared by live and replay
- ``evidence``   structured evidence and its words (core/texts/*/detection.py)
- ``live``       :func:`run_detection`, :func:`refresh_baselines` (database in, incidents out)
- ``replay``     the ``mimamori replay`` engine (CSV in, alerts out, same evaluate/step)
"""

# Alarms per month a home's ordinary quiet stretches may raise (core/detection/survival.py):
# the operator's setting (core/settings.py, FALSE_ALARM_BUDGET) defaults to this. The training
# folds of benchmarks/detection_eval.py chose 0.008-0.015 on lcl-dev, whose homes are often away
# (absences come on top of the budget); at that a regular home that does not get up is not
# raised within 14 h (the demo), at 0.1 by 10:35. See benchmarks/results/detection_notes.md.
# Here, without numpy, so settings can import it cheaply.
DEFAULT_FALSE_ALARM_BUDGET = 0.1
