"""Escalation: senior first, then family, then landlord group and dispatch partner.

Durable and exactly-once by construction:

- ``policy``      declared, validated policies; ``snapshot_for(home, kind)`` copied at open
- ``steps``       the step table ``SPECS = {StepKind: StepSpec}`` → Wait / Advance / Finish
- ``engine``      ``tick(limit=500) -> int``: claim due incidents (SKIP LOCKED), fence, run one step
- ``dispatcher``  ``dispatch_due(limit=100) -> int``: claim outbox rows, send idempotently, record
- ``channels``    LINE / Twilio SMS+voice / SMTP / webhook behind one ``Sender`` protocol (+ fakes)
- ``notices``     stop pending steps and tell whoever was alerted (called by core.incidents)
- ``answers``     what the senior's own LINE reply means (OK / call for help / anything else) and its effect
- ``urgent``      the senior's call for help: the family alerted at once
- ``checkin``     SMS safety-check tokens
- ``kinds``       the step kinds (``StepKind``) and the shape of their specs
- ``voice``       what Twilio callbacks mean (called by bot/twilio_routes.py)
- ``faults``      named crash points for the fault-injection tests

Postback data contract with the bot (URL-query style):
``action=ack&incident=<id>`` and ``action=close&incident=<id>&reason=safe|false_alarm``.
"""
