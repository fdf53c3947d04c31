"""The alert's story in sentences a family reads (core/reports/timeline.py)."""

TEXTS: dict[str, str] = {
    "reports.timeline.contact.voice": "{who}にお電話しました（{n}回目・{result}）",
    "reports.timeline.contact.sms": "{who}にSMSでお尋ねしました（{result}）",
    "reports.timeline.contact.line": "{who}にLINEでお知らせしました（{result}）",
    "reports.timeline.contact.email": "{who}にメールでお知らせしました（{result}）",
    "reports.timeline.contact.webhook": "{who}に駆けつけをお願いしました（{result}）",
    "reports.timeline.help": "ご本人から、助けを求めるメッセージが届きました",
    "reports.result.pending": "これから",
    "reports.result.waiting": "お返事待ち",
    "reports.result.answered": "応答がありました",
    "reports.result.no_answer": "応答なし",
    "reports.result.ended_meanwhile": "その前に終わりました",
    "reports.result.sent": "送信済み",
    "reports.result.not_needed": "ほかの方が対応したため、お送りしていません",
    "reports.result.failed": "届きませんでした",
    "reports.who.partner": "駆けつけの提携先",
    "reports.close.contract_ended": "ご契約が終了しました",
}
