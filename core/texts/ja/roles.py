"""Who is adding the account (bot/roles.py)."""

TEXTS: dict[str, str] = {
    "roles.ask": "はじめに教えてください。どちらの方ですか？",
    "roles.family": "見守る家族です",
    "roles.senior": "見守られる本人です",
}
