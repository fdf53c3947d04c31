TEXTS: dict[str, str] = {
    "meters.readiness.waiting": (
        "見守りの準備をしています。あと{days}日ほどで、ふだんの暮らしのリズムがわかり、見守りを始められます。"
    ),
    "meters.readiness.awaiting_consent": "電力データがそろいました。ご本人の同意を確認でき次第、見守りを始めます。",
    "meters.readiness.ready": "電力データがそろいました。見守りを始めています。",
    "meters.data_gap": (
        "{since}から電力データが届いていません。そのあいだは見守りが十分にできません。"
        "データが届けば自動で再開します。"
    ),
    "meters.data_back": "電力データの受信が再開しました。見守りを続けています。",
}
