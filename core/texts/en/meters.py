TEXTS: dict[str, str] = {
    "meters.readiness.waiting": (
        "We are getting ready. In about {days} days we will know the usual daily rhythm and can start watching over."
    ),
    "meters.readiness.awaiting_consent": (
        "We have enough electricity data. Watching over starts as soon as the resident's consent is confirmed."
    ),
    "meters.readiness.ready": "We have enough electricity data. Watching over has started.",
    "meters.data_gap": (
        "No electricity data has arrived since {since}. Until it does, we cannot watch over properly. "
        "It resumes by itself when data arrives."
    ),
    "meters.data_back": "Electricity data is arriving again. Watching over continues.",
}
