TEXTS: dict[str, str] = {
    "ops.watching_resumed": "{who}の見守りを再開しました。いつもと違う様子があれば、またお知らせしますね。",
    "ops.watching_ended": (
        "{who}の見守りサービスのご契約が終了しました。これまでご利用いただき、ありがとうございました。"
    ),
    "ops.someone": "ご家族",
    "ops.resident_san": "{name}さん",
}
