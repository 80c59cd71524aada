"""Seeing the service: model call measurements, Prometheus metrics, LangSmith
tracing, health and readiness. The admin pages live in chat/admin/."""
