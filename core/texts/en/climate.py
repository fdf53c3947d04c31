"""Heat and cold (core.climate), in English."""

TEXTS: dict[str, str] = {
    "climate.nudge.heat_risk": "{name}, it will be very hot today. Please turn on the air conditioner and drink water.",
    "climate.nudge.cold_risk": "{name}, it will be very cold tonight. Please turn on the heating and keep warm.",
    "climate.voice.heat_risk": (
        "This is mimamori. {name}, it will be very hot today. Please turn on the air conditioner and drink water."
    ),
    "climate.voice.cold_risk": "This is mimamori. {name}, it will be very cold tonight. Please turn on the heating.",
    "climate.family.heat_risk": (
        "Today's forecast for {name}'s home is a high of {t_max}, but the air conditioner does not seem to have "
        "been on since about {since}. We reminded them at {nudged_at}. When you can, please give them a call."
    ),
    "climate.family.cold_risk": (
        "Tonight's forecast for {name}'s home is a low of {t_min}, but their usual heating does not seem to be on. "
        "We reminded them at {nudged_at}. When you can, please check on them."
    ),
    "climate.family_subject.heat_risk": "The heat at {name}'s home",
    "climate.family_subject.cold_risk": "The cold at {name}'s home",
    "climate.seen_notice.heat_risk": "The air conditioner at {name}'s home seems to be on now.",
    "climate.seen_notice.cold_risk": "The heating at {name}'s home seems to be on now.",
    "climate.never_seen.heat_risk": (
        "On hot days we have not seen an air conditioner in use at {name}'s home. They may not have one, or use "
        "only a fan. Heat stroke can happen indoors: it may help to talk with them about checking the air "
        "conditioner or staying somewhere cool. (We send this only once.)"
    ),
    "climate.never_seen.cold_risk": (
        "On cold nights we have not seen electric heating in use at {name}'s home; they may heat with gas or "
        "kerosene. It may help to talk with them about keeping warm at night. (We send this only once.)"
    ),
    "climate.degrees": "{value:.0f}°C",
    "climate.heat_alert": "heat-stroke alert",
    "climate.graph.hot_day": "Hot day (high {t_max})",
    "climate.graph.alert_day": "Heat-stroke alert (high {t_max})",
    "climate.graph.cooling": "Air conditioning",
    "escalation.alert_kind.heat_risk": "A very hot day, and the air conditioner does not seem to be on.",
    "escalation.alert_kind.cold_risk": "A very cold night, and the usual heating does not seem to be on.",
    "climate.week.title": "Heat and cold",
    "climate.week.day": "{month}/{day} {label}: {ran}",
    "climate.week.cooling_ran": "air conditioning about {start}-{end}",
    "climate.week.no_cooling": "no air conditioning seen",
    "reports.kind.heat_risk": "A hot day without air conditioning: we reminded them",
    "reports.kind.cold_risk": "A cold night without heating: we reminded them",
}
