"""Delivery channels behind one small protocol (:class:`base.Sender`).

:func:`default_channels` builds the real ones from settings: LINE (line-bot-sdk v3),
Twilio SMS and voice (the twilio client, pointed at the local fake in dev), SMTP email
(or the dev mailbox when ``SMTP_URL`` is unset) and webhooks (requests).
"""

from __future__ import annotations

from core.enums import Channel
from core.escalation.channels.base import OutgoingMessage, Sender, SendResult
from core.settings import Settings


def default_channels(settings: Settings) -> dict[Channel, Sender]:
    from core.escalation.channels.email import EmailSender
    from core.escalation.channels.line import LineSender
    from core.escalation.channels.twilio import TwilioSender
    from core.escalation.channels.webhook import WebhookSender

    twilio = TwilioSender(settings)
    return {
        Channel.LINE: LineSender(settings),
        Channel.SMS: twilio,
        Channel.VOICE: twilio,
        Channel.EMAIL: EmailSender(settings),
        Channel.WEBHOOK: WebhookSender(settings),
    }


__all__ = ["OutgoingMessage", "SendResult", "Sender", "default_channels"]
