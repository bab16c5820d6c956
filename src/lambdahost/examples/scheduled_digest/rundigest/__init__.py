"""The ``scheduled-digest`` example's code: read the platform's functions and invocation records through its own
API (``platform_api``, signed by ``sigv4``), summarise them per function (``summary``), and tie that to a scheduled
event (``handler``)."""
