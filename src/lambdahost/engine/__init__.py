"""Invoking functions: admission (concurrency), the sync path, invocation records."""
