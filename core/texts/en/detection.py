TEXTS: dict[str, str] = {
    "detection.home_default_name": "the home",
    "detection.kind.no_wake": "No morning activity",
    "detection.kind.inactivity": "Unusually quiet for a long time",
    "detection.kind.flat_usage": "Electricity stuck at one level",
    "detection.kind.night_activity": "Electricity still in use late at night",
    "detection.kind.usage_resumed": "Electricity use has resumed",
    "detection.kind.over_usage": "Today's use is higher than usual",
    "detection.kind.data_gap": "Meter readings are missing",
    "detection.evidence.no_wake": "Usually active by {wake}; no use above standby since {since}.",
    "detection.evidence.inactivity": (
        "No use above standby since {since} (u"
        "nusually long for this time of day)."
    ),
    "detection.evidence.flat_usage": (
        "Use has stayed at about {watts} W since {since},"
        " without the usual ups and downs."
    ),
    "detection.evidence.night_activity": "Usually quiet by {sleep}; electricity is still in use.",
    "detection.evidence.usage_resumed": "Electricity use was seen at {seen}.",
    "detection.evidence.over_usage": (
        "Today's use is {kwh} kWh,"
        " more than {percent}% above the usual {usual} kWh."
    ),
    "detection.evidence.data_gap": (
        "No meter readings since {since};"
        " watching is limited meanwhile."
    ),
    "detection.confidence": "Confidence: {percent}%",
    "detection.not_watchable": (
        "The electricity use at {home} shows little daily rhythm, so we cannot watch it reliably: "
        "we may not be able to tell you when something is unusual. Please contact us with any questions."
    ),
}
