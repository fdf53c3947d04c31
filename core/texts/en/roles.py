"""Who is adding the account (bot/roles.py)."""

TEXTS: dict[str, str] = {
    "roles.ask": "First, please tell us who you are.",
    "roles.family": "I'm family",
    "roles.senior": "I'm being watched over",
}
