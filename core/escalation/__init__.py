"""Escalation: senior first, then family, then landlord group and dispatch partner.

Durable and exactly-once by construction:

- ``policy``      declared, validated policies; ``snapshot_for(home, kind)`` copied at open
- ``steps``       the dispatch table ``STEPS = {step_kind: function}`` → Wait / Advance / Finish
- ``engine``      ``tick(limit=500) -> int``: claim due incidents (SKIP LOCKED), fence, run one step
- ``dispatcher``  ``dispatch_due(limit=100) -> int``: claim outbox rows, send idempotently, record
- ``channels``    LINE / Twilio SMS+voice / SMTP / webhook behind one ``Sender`` protocol (+ fakes)
- ``notices``     stop pending steps and tell whoever was alerted (called by core.incidents)
- ``checkin``     ``is_ok_reply(text)``, ``confirm_resident_by_line(session, line_user_id, text)``,
                  SMS safety-check tokens
- ``voice``       what Twilio callbacks mean (called by bot/twilio_routes.py)
- ``faults``      named crash points for the fault-injection tests

Postback data contract with the bot (URL-query style):
``action=ack&incident=<id>`` and ``action=close&incident=<id>&reason=safe|false_alarm``.
"""
