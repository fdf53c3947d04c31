"""The escalation fixtures (web app, fake Twilio, SMTP) for the Twilio route tests."""

from tests.core.escalation.conftest import fake_twilio, recording, smtp_inbox, web  # noqa: F401
