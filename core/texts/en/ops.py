TEXTS: dict[str, str] = {
    "ops.watching_resumed": "Watching over {who} has resumed. We will let you know if anything looks unusual.",
    "ops.watching_ended": "The watch-over contract for {who} has ended. Thank you for using the service.",
    "ops.someone": "your family member",
    "ops.resident_san": "{name}",
}
