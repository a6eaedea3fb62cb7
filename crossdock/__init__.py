"""Crossdock: durable operations for cross-border e-commerce on Temporal."""
