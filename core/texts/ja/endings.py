"""How an incident ended, told to everyone in it; and the senior's call for help."""

TEXTS: dict[str, str] = {
    # to the family, the landlord group and the dispatch partner
    "endings.ack": "{time}、{who}が対応してくださることになりました。ほかの方へのお知らせは止めています。",
    "endings.usage_seen": (
        "{time}、{name}のお宅で電気の使用が確認できました。ご無事と思われます。お知らせはこれで終わりです。"
    ),
    "endings.resident_ok": "{time}、{name}ご本人からお返事がありました{reply}。ご無事です。お知らせはこれで終わりです。",
    "endings.safe": "{time}、{who}が{name}のご無事を確認してくださいました。お知らせはこれで終わりです。",
    "endings.false_alarm": (
        "{time}、{who}から、今回は心配のないお知らせだったとご連絡がありました。お知らせはこれで終わりです。"
    ),
    "endings.other": "このお知らせは{time}に終わりました（{reason}）。",
    "endings.reply_words": "（「{words}」）",
    "endings.reply_sticker": "（スタンプでのお返事）",
    # to the senior, who was asked "are you OK?"
    "endings.resident.ack": "{name}、{time}に{who}がご様子を確かめてくださることになりました。ご安心ください。",
    "endings.resident.usage_seen": "{name}、電気のご使用が確認できましたので、安心いたしました。お返事は不要です。",
    "endings.resident.resident_ok": "{name}、お返事ありがとうございます。ご無事を確認いたしました。",
    "endings.resident.safe": "{name}、{time}に{who}がご無事を確認してくださいました。お返事は不要です。",
    "endings.resident.false_alarm": "{name}、今回のお知らせは心配のないものでした。お返事は不要です。失礼いたしました。",
    # the senior calls for help
    "endings.help_title": "【至急】{name}から助けを求めるメッセージが届きました",
    "endings.help_words": "ご本人からのメッセージ：「{words}」",
    "endings.help_now": "すぐにご本人へご連絡いただくか、様子を見に行ってください。急ぐときは119番へ。",
    "endings.resident_wrote": "{name}から、続けてメッセージがありました：「{words}」",
    "endings.a_sticker": "（スタンプ）",
    # the pages: the detail link on every alert card
    "endings.detail_button": "くわしく見る",
}
