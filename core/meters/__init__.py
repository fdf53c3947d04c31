"""Meter data: sources (files, APIs, the simulator), ingestion, readiness."""
