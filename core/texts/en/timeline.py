"""The alert's story in sentences a family reads (core/reports/timeline.py)."""

TEXTS: dict[str, str] = {
    "reports.timeline.contact.voice": "Called {who} (call {n}: {result})",
    "reports.timeline.contact.sms": "Asked {who} by SMS ({result})",
    "reports.timeline.contact.line": "Told {who} on LINE ({result})",
    "reports.timeline.contact.email": "Emailed {who} ({result})",
    "reports.timeline.contact.webhook": "Asked {who} to visit ({result})",
    "reports.timeline.help": "They sent a message asking for help",
    "reports.result.pending": "planned",
    "reports.result.waiting": "waiting for an answer",
    "reports.result.answered": "answered",
    "reports.result.no_answer": "no answer",
    "reports.result.ended_meanwhile": "it ended before that",
    "reports.result.sent": "sent",
    "reports.result.not_needed": "not sent: someone else took it",
    "reports.result.failed": "could not be delivered",
    "reports.who.partner": "the visiting partner",
    "reports.close.contract_ended": "the contract ended",
}
