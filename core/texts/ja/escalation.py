TEXTS: dict[str, str] = {
    # to the resident
    "escalation.voice_script": (
        "{name}、こんにちは。みまもりサービスです。今日は電気のご使用がいつもと違うようでしたので、"
        "念のためお電話いたしました。お元気でしたら、電話の1を押してください。"
    ),
    "escalation.voice_thanks": (
        "ありがとうございます。ご無事を確認いたしました。ご家族にもお伝えします。失礼いたします。"
    ),
    "escalation.voice_no_input": "お返事を確認できませんでした。のちほど、もう一度おかけします。失礼いたします。",
    "escalation.sms_checkin": (
        "{name}、みまもりサービスです。お変わりありませんか。お元気でしたら{minutes}分以内に"
        "こちらを開いて「大丈夫です」を押してください。{url}"
    ),
    "escalation.line_checkin": (
        "{name}、こんにちは。みまもりサービスです。お変わりありませんか？お元気でしたら「OK」を押してください。"
    ),
    "escalation.line_checkin_ok": "OK",
    "escalation.checkin_page_title": "みまもりサービス 安否確認",
    "escalation.checkin_page_question": "お変わりありませんか？お元気でしたら、下のボタンを押してください。",
    "escalation.checkin_button": "大丈夫です",
    "escalation.checkin_thanks": "ありがとうございます。ご無事をご家族にお伝えしました。",
    "escalation.checkin_refused": (
        "申し訳ありません。このリンクは有効期限が切れたか、すでに使われています。"
        "お手数ですが、ご家族へ直接ご連絡ください。"
    ),
    # to the family
    "escalation.alert_title": "{name}のご様子の確認をお願いします",
    "escalation.alert_kind.no_wake": "いつもの起きる時間を過ぎても、電気の使用が始まっていません。",
    "escalation.alert_kind.inactivity": "長い時間、電気の使用がほとんどありません。",
    "escalation.alert_kind.flat_usage": "電気の使われ方に、いつものような変化がありません。",
    "escalation.evidence_last_activity": "最後に使用が確認されたのは {time} ごろです。",
    "escalation.resident_tried.voice": "ご本人にお電話しましたが（{attempts}回）、つながりませんでした。",
    "escalation.resident_tried.sms": "ご本人にSMSでお尋ねしましたが、お返事がありません。",
    "escalation.resident_tried.line": "ご本人にLINEでお尋ねしましたが、お返事がありません。",
    "escalation.resident_not_contacted": "ご本人への確認はできない設定のため、ご家族にお知らせしています。",
    "escalation.also_told": "このお知らせは {names} にもお送りしています。",
    "escalation.only_you": "このお知らせは、いまのところあなたにお送りしています。",
    "escalation.ack_button": "対応します",
    "escalation.call_button": "電話する",
    "escalation.graph_button": "グラフを見る",
    "escalation.safe_button": "無事でした",
    "escalation.email_subject": "【みまもり】{name}のご様子の確認をお願いします",
    "escalation.email_ack_link": "対応していただける場合は、こちらを開いてください（ほかの方にお伝えします）: {url}",
    "escalation.ack_page_question": "{name}の件、対応していただけますか？押すと、ほかの方にもお伝えします。",
    "escalation.ack_page_done": "ありがとうございます。ほかの方にも、対応していただけることをお伝えしました。",
    "escalation.ack_page_already": "この件は、すでに対応が始まっているか、終わっています。ありがとうございます。",
    # to the landlord group and the dispatch partner
    "escalation.landlord_title": "{unit} のご様子の確認をお願いします",
    "escalation.landlord_body": "ご家族にもお知らせしていますが、まだ対応の連絡がありません。",
    "escalation.landlord_ack_button": "確認に行きます",
    "escalation.dispatch_subject": "【みまもり】駆けつけのご依頼（{unit}）",
    "escalation.dispatch_body": "駆けつけをお願いいたします。\n住所: {address}\n状況: {summary}\n受付番号: {incident}",
    # notices (not emergencies)
    "escalation.notice.over_usage": "{name}のお宅で、今日の電気の使用量がいつもより多くなっています。",
    "escalation.notice.usage_resumed": "{name}のお宅で電気が使われ始めました。起きて過ごされているようです。",
    "escalation.notice.data_gap": (
        "{name}のお宅の電力データが届いていないため、いまは見守りが十分にできません。届き次第、再開します。"
    ),
    "escalation.notice.night_activity": "{name}のお宅で、おやすみの時間を過ぎても電気が使われています。",
    "escalation.notice_subject": "【みまもり】{name}のお知らせ",
    # policy errors (ValidationError codes from core.escalation.policy.validate_policy)
    "escalation.policy_no_steps": "連絡の手順が空です。少なくとも1つの手順を設定してください。",
    "escalation.policy_unknown_field": "設定に不明な項目があります。",
    "escalation.policy_unknown_step": "不明な手順が含まれています。",
    "escalation.policy_duplicate_step": "同じ手順が2回含まれています。",
    "escalation.policy_order": "手順は、ご本人→ご家族→管理会社→駆けつけの順にしてください。",
    "escalation.policy_needs_family": "ご家族への連絡は必ず含めてください。",
    "escalation.policy_bad_value": "設定の値が正しくありません。",
    "escalation.policy_out_of_range": "設定の値が、選べる範囲を超えています。",
}
