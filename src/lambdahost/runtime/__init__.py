"""Execution environments: child processes that import a function once and serve invocations one at a time."""
