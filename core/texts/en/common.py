TEXTS: dict[str, str] = {
    "common.service_name": "mimamori",
    "common.unknown_error": "Sorry, something went wrong. Please try again in a little while.",
}
