"""Escalation: per-home policies, the durable step engine, and the delivery channels."""
