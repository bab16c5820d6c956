"""Triggers: what invokes functions without a caller (schedules, queue and stream pollers, HTTP routes)."""
