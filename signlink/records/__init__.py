"""Durable records in Redis: what happened, kept for later steps and for QA (verdicts.py: check verdicts)."""
