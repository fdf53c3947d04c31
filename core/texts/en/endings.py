"""How an incident ended, told to everyone in it; and the senior's call for help."""

TEXTS: dict[str, str] = {
    "endings.ack": "At {time}, {who} said they are handling it. We have stopped alerting the others.",
    "endings.usage_seen": (
        "At {time}, electricity use was seen at {name}'s home; they seem to be fine. This alert is now over."
    ),
    "endings.resident_ok": "At {time}, {name} answered{reply}. They are fine. This alert is now over.",
    "endings.safe": "At {time}, {who} confirmed that {name} is safe. This alert is now over.",
    "endings.false_alarm": "At {time}, {who} let us know this alert was nothing to worry about. It is now over.",
    "endings.other": "This alert ended at {time} ({reason}).",
    "endings.reply_words": " (\"{words}\")",
    "endings.reply_sticker": " (with a sticker)",
    "endings.resident.ack": "{name}, at {time} {who} said they will check on you. Please don't worry.",
    "endings.resident.usage_seen": "{name}, we saw you using electricity, so all is well. No need to answer.",
    "endings.resident.resident_ok": "{name}, thank you for answering. We know you are fine.",
    "endings.resident.safe": "{name}, at {time} {who} confirmed you are safe. No need to answer.",
    "endings.resident.false_alarm": "{name}, this check was nothing to worry about. No need to answer. Sorry to bother you.",
    "endings.help_title": "URGENT: {name} is asking for help",
    "endings.help_words": "Their message: \"{words}\"",
    "endings.help_now": "Please contact them or go and see them now. In an emergency, call 119.",
    "endings.resident_wrote": "{name} wrote again: \"{words}\"",
    "endings.a_sticker": "(a sticker)",
    "endings.detail_button": "Details",
}
