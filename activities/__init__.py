"""Temporal activities: thin translations of a contract into one partner call."""
