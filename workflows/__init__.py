"""Temporal workflows: each lifecycle is a state table plus the waiting."""
