"""Detection: learn each home's normal day, notice "not like usual" sooner, without crying wolf.

Pure numpy, no I/O, vectorised over rows (a row = one home at one "now"):

- ``timeaxis``   half-hour slots, local (JST) half-hour of day, weekday vs weekend/holiday
- ``baseline``   :func:`learn` from the last 56 days: night-vs-usual likelihood-ratio tables
                 (weekday/rest-day x half-hour), base load, activity level, learned wake/sleep,
                 quiet-stretch lengths and how high each score usually gets by half-hour,
                 usual day kWh, watchability
- ``baseline_pack`` one home's baseline as packed bytes (HomeBaseline.packed), generic over fields
- ``engine``     :class:`DetectionInput`, :class:`Sensitivity`, shared per-row series
- ``detectors``  the declared detector table and :func:`evaluate` (the one code path)
- ``book``       which findings become incidents (:func:`step`), shared by live and replay
- ``evidence``   structured evidence and its words (core/texts/*/detection.py)
- ``live``       :func:`run_detection`, :func:`refresh_baselines` (database in, incidents out)
- ``replay``     the ``mimamori replay`` engine (CSV in, alerts out, same evaluate/step)
"""
