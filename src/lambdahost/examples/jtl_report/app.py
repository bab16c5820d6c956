"""lambdahost's ``jtl-report`` example: a JMeter JTL CSV in, an Excel workbook, an HTML report and a JSON summary
out; see ``jtlreport/handler.py`` for the event, the outputs and the output directory contract.

Handler ``app.handler``. The function's directory is its code root (on ``sys.path`` when it runs), so the
``jtlreport`` package beside this file is imported by its top-level name; ``requirements.txt`` names openpyxl.
Run it with ``lambdahost invoke jtl-report --payload '{"jtl": "/data/results.jtl"}'``.
"""

from __future__ import annotations

from jtlreport.handler import handler  # type: ignore[import-not-found,unused-ignore]

__all__ = ["handler"]
