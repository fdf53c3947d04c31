TEXTS: dict[str, str] = {
    "detection.home_default_name": "ご実家",
    "detection.kind.no_wake": "朝の活動が見られません",
    "detection.kind.inactivity": "いつもと違う静かな状態が続いています",
    "detection.kind.flat_usage": "電気が一定のまま動きがありません",
    "detection.kind.night_activity": "夜遅くまで電気が使われ続けています",
    "detection.kind.usage_resumed": "電気の使用が再開しました",
    "detection.kind.over_usage": "今日の電気使用量がいつもより多くなっています",
    "detection.kind.data_gap": "メーターのデータが届いていません",
    "detection.evidence.no_wake": (
        "いつもは{wake}ごろまでに活動がありますが、{since}から待機電力を超える使用がありません。"
    ),
    "detection.evidence.inactivity": (
        "{since}から待機電力を超える使用がありません（この時間帯としては珍しい長さです）。"
    ),
    "detection.evidence.flat_usage": "{since}から電気が約{watts}Wのまま、いつものような増減がありません。",
    "detection.evidence.night_activity": "いつもは{sleep}ごろに静かになりますが、まだ電気が使われ続けています。",
    "detection.evidence.usage_resumed": "{seen}に電気の使用が確認できました。",
    "detection.evidence.over_usage": "今日の使用量は{kwh}kWhで、いつもの{usual}kWhより{percent}%以上多くなっています。",
    "detection.evidence.data_gap": "{since}からメーターのデータが届いていません。この間は見守りが十分にできません。",
    "detection.confidence": "確からしさ：{percent}%",
    "detection.not_watchable": (
        "{home}の電気の使い方には、毎日のリズムがあまり見られません。"
        "このままでは正確な見守りが難しいため、いつもと違う様子があってもお知らせできないことがあります。"
        "ご不明な点は運営までお問い合わせください。"
    ),
}
