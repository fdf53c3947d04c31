"""Email over SMTP (smtplib) with a deterministic Message-ID, or the dev mailbox.

The Message-ID is derived from the outbox key, so a retry after an uncertain send
carries the same id and mail systems and clients fold the two into one. With
``SMTP_URL`` unset (dev) mail lands in :data:`DEV_MAILBOX`, shown at ``/dev/mail``.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate
from urllib.parse import parse_qs, unquote, urlparse

from core import clock
from core.errors import PermanentFailure, RetryLater
from core.escalation.channels.base import OutgoingMessage, SendResult
from core.settings import Settings


class DevMailbox:
    """Mail "sent" in dev with no SMTP server: kept in memory for the /dev/mail page."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    def deliver(self, msg: EmailMessage) -> None:
        with self._lock:
            if not any(m["Message-ID"] == msg["Message-ID"] for m in self.messages):
                self.messages.append(msg)


DEV_MAILBOX = DevMailbox()


def message_id(key: str, settings: Settings) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    domain = urlparse(settings.base_url).hostname or "mimamori.local"
    return f"<{digest}@{domain}>"


def build(message: OutgoingMessage, settings: Settings) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = message.recipient
    msg["Subject"] = message.payload["subject"]
    msg["Message-ID"] = message_id(message.key, settings)
    msg["Date"] = formatdate(clock.now().timestamp(), usegmt=True)
    msg.set_content(message.payload["text"])
    if message.payload.get("html"):
        msg.add_alternative(message.payload["html"], subtype="html")
    return msg


class EmailSender:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send(self, message: OutgoingMessage) -> SendResult:
        msg = build(message, self.settings)
        if not self.settings.smtp_url:
            DEV_MAILBOX.deliver(msg)
            return SendResult(msg["Message-ID"])
        url = urlparse(self.settings.smtp_url)
        options = parse_qs(url.query)
        timeout = self.settings.http_timeout_seconds
        try:
            smtp: smtplib.SMTP
            if url.scheme == "smtps":
                smtp = smtplib.SMTP_SSL(url.hostname or "", url.port or 465, timeout=timeout,
                                        context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(url.hostname or "", url.port or 25, timeout=timeout)
            with smtp:
                if url.scheme == "smtp" and options.get("starttls", ["0"])[0] in {"1", "true"}:
                    smtp.starttls(context=ssl.create_default_context())
                if url.username:
                    smtp.login(unquote(url.username), unquote(url.password or ""))
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentFailure("smtp: recipient refused") from exc
        except smtplib.SMTPResponseException as exc:
            if 500 <= exc.smtp_code < 600:
                raise PermanentFailure(f"smtp {exc.smtp_code}") from exc
            raise RetryLater(f"smtp {exc.smtp_code}") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryLater(f"smtp: {type(exc).__name__}") from exc
        return SendResult(msg["Message-ID"])
