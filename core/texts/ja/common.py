TEXTS: dict[str, str] = {
    "common.service_name": "みまもり",
    "common.unknown_error": "申し訳ありません。うまく処理できませんでした。少し時間をおいて、もう一度お試しください。",
}
