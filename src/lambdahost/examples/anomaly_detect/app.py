"""lambdahost's ``anomaly-detect`` example: response-time spikes and throughput drops in a JMeter JTL (or a
series given as JSON), found with a rolling median and MAD; returns the anomalous windows and writes an SVG plot.
See ``anomalies/handler.py`` for the event, the outputs and the output directory contract.

Handler ``app.handler``; no third-party dependency. Run it with
``lambdahost invoke anomaly-detect --payload '{"jtl": "/data/results.jtl", "bucket_s": 10}'``.
"""

from __future__ import annotations

from anomalies.handler import handler  # type: ignore[import-not-found,unused-ignore]

__all__ = ["handler"]
