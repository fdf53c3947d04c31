"""What the bot answers the senior in their own chat (core.escalation.answers decides what their reply meant)."""

TEXTS: dict[str, str] = {
    "senior.reply.confirmed": "{name}, thank you for answering. We are glad you are well.",
    "senior.reply.confirmed_told": "{name}, thank you for answering. We have told your family too.",
    "senior.reply.help_sent": (
        "{name}, we have told your family right away. If you need an ambulance, please call 119 without waiting."
    ),
    "senior.reply.already_over": "{name}, thank you for answering. This check is already over.",
    "senior.reply.nothing_open": "{name}, thank you. There is no check waiting for an answer now.",
    "senior.reply.not_understood": (
        "{name}, thank you for your message. If you ever need help, send \"help\" and we will tell your family at once."
    ),
    "senior.follow.ask_code": (
        "This is mimamori. Please send the six-letter invite code your family received. "
        "If you do not have it, please ask your family for the mimamori invite code."
    ),
    "senior.follow.greeting": (
        "This is mimamori. When we ask how you are, answer with any words you like. "
        "If you need help, send \"help\"."
    ),
}
