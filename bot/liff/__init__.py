"""The LIFF form for a home's written details (served by this service, opened inside LINE)."""
