"""What a platform team watches: health endpoints, Prometheus metrics, traces
(docs/production.md)."""
