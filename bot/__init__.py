"""The LINE side of mimamori: transport and conversation, no detection logic."""
