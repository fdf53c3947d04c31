"""What the bot answers the senior in their own chat (core.escalation.answers decides what their reply meant)."""

TEXTS: dict[str, str] = {
    "senior.reply.confirmed": "{name}、お返事ありがとうございます。ご無事がわかり、安心いたしました。",
    "senior.reply.confirmed_told": "{name}、お返事ありがとうございます。ご家族にもお伝えしました。",
    "senior.reply.help_sent": (
        "{name}、すぐにご家族にお知らせしました。急いで救急車が必要なときは、ためらわずに119番へお電話ください。"
    ),
    "senior.reply.already_over": "{name}、お返事ありがとうございます。この確認はすでに終わっています。",
    "senior.reply.nothing_open": "{name}、ありがとうございます。いまは確認のお知らせはありません。",
    "senior.reply.not_understood": (
        "{name}、メッセージありがとうございます。困ったときは「助けて」と送っていただければ、すぐにご家族にお知らせします。"
    ),
    "senior.follow.ask_code": (
        "みまもりです。ご家族が受け取った6文字の「招待コード」を、このトークに送ってください。"
        "コードがお手元にないときは、ご家族に「みまもりの招待コードを教えて」とお伝えください。"
    ),
    "senior.follow.greeting": (
        "みまもりです。ご家族から確認のお知らせが届いたときは、どんな言葉でもお返事ください。"
        "困ったときは「助けて」と送ってください。"
    ),
}
