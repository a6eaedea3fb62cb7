"""Everything that starts or signals workflows: pollers, webhooks, checkout intake."""
