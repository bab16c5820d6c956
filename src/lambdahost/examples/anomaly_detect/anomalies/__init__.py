"""The ``anomaly-detect`` example's code: a JTL or a JSON time series into evenly spaced series (``series``),
robust rolling scores and anomalous windows (``detect``), an SVG plot (``plot``), the Lambda event (``handler``)."""
