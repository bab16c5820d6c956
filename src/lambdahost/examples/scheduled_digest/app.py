"""lambdahost's ``scheduled-digest`` example: a scheduled task that summarises the last week's runs of the other
functions (runs, failures, durations, errors) through the platform's own API, from inside the function (boto3
for the functions, the native invocations API for the records). See ``rundigest/handler.py`` for the event, the
outputs and how to schedule it.

Handler ``app.handler``; ``requirements.txt`` names boto3. Run it once with
``lambdahost invoke scheduled-digest --payload '{"days": 7}'``.
"""

from __future__ import annotations

from rundigest.handler import handler  # type: ignore[import-not-found,unused-ignore]

__all__ = ["handler"]
