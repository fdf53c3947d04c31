"""Heat and cold (core.climate): a gentle nudge to the senior, then a quiet word to the family."""

TEXTS: dict[str, str] = {
    "climate.nudge.heat_risk": "{name}、今日はとても暑くなります。エアコンをつけて、水分をとってくださいね。",
    "climate.nudge.cold_risk": "{name}、今夜はとても冷え込みます。暖房をつけて、暖かくしてお休みくださいね。",
    "climate.voice.heat_risk": (
        "みまもりです。{name}、今日はとても暑くなります。エアコンをつけて、水分をとってくださいね。"
    ),
    "climate.voice.cold_risk": "みまもりです。{name}、今夜はとても冷え込みます。暖房をつけて、暖かくしてくださいね。",
    "climate.family.heat_risk": (
        "{name}のお宅は今日、最高気温{t_max}の予報ですが、{since}ごろからエアコンが使われていないようです。"
        "ご本人には{nudged_at}にお声がけしました。お手すきのときに、お電話などで様子をたずねてみてください。"
    ),
    "climate.family.cold_risk": (
        "{name}のお宅は今夜、最低気温{t_min}の予報ですが、いつもの暖房が使われていないようです。"
        "ご本人には{nudged_at}にお声がけしました。お手すきのときに、様子をたずねてみてください。"
    ),
    "climate.family_subject.heat_risk": "{name}のお宅の暑さについて",
    "climate.family_subject.cold_risk": "{name}のお宅の寒さについて",
    "climate.seen_notice.heat_risk": "{name}のお宅で、エアコンが使われ始めたようです。ひとまず安心ですね。",
    "climate.seen_notice.cold_risk": "{name}のお宅で、暖房が使われ始めたようです。ひとまず安心ですね。",
    "climate.never_seen.heat_risk": (
        "{name}のお宅では、暑い日にもエアコンが使われている様子が、これまで電気の使い方から見えませんでした。"
        "エアコンがない、または扇風機だけでお過ごしかもしれません。"
        "暑い日は室内でも熱中症になることがあります。エアコンの点検や、涼しい場所で過ごす工夫について、"
        "一度ご本人とお話しいただけると安心です。（このお知らせは一度だけお送りします）"
    ),
    "climate.never_seen.cold_risk": (
        "{name}のお宅では、寒い夜にも電気の暖房が使われている様子が見えませんでした。"
        "ガスや灯油の暖房をお使いなのかもしれません。寒い夜の過ごし方について、"
        "一度ご本人とお話しいただけると安心です。（このお知らせは一度だけお送りします）"
    ),
    "climate.degrees": "{value:.0f}度",
    "climate.heat_alert": "熱中症警戒アラート",
    # the day graph and the demo
    "climate.graph.hot_day": "暑い日（最高{t_max}）",
    "climate.graph.alert_day": "熱中症警戒アラート（最高{t_max}）",
    "climate.graph.cooling": "エアコン",
    # the incident kinds' one-line description where incidents are listed (escalation.evidence_words)
    "escalation.alert_kind.heat_risk": "とても暑い日ですが、エアコンが使われていないようです。",
    "escalation.alert_kind.cold_risk": "とても寒い夜ですが、いつもの暖房が使われていないようです。",
    # the weekly digest
    "climate.week.title": "暑さ・寒さ",
    "climate.week.day": "{month}/{day} {label}: {ran}",
    "climate.week.cooling_ran": "エアコン {start}〜{end}ごろ",
    "climate.week.no_cooling": "エアコンは見えませんでした",
    "reports.kind.heat_risk": "暑い日にエアコンが見えず、お声がけしました",
    "reports.kind.cold_risk": "寒い夜に暖房が見えず、お声がけしました",
}
