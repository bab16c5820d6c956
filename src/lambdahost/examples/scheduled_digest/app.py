"""lambdahost's ``scheduled-digest`` example: a scheduled task that summarises the last week's runs of the other
functions (runs, failures, durations, errors) through the platform's own API, from inside the function (the Lambda API
for the functions, the native invocations API for the records, both signed with SigV4 by the example's own
``rundigest/sigv4.py``). See ``rundigest/handler.py`` for the event, the outputs and the schedule.

Handler ``app.handler``; the standard library is all it needs (no ``requirements.txt``). ``lambdahost serve
--example`` deploys it with the weekly schedule ``weekly-digest``; run it once with
``lambdahost invoke scheduled-digest --payload '{"days": 7}'``.
"""

from __future__ import annotations

from rundigest.handler import handler  # type: ignore[import-not-found,unused-ignore]

__all__ = ["handler"]
