"""The ``jtl-report`` example's code: read a JMeter JTL CSV in one streaming pass (``reader``), aggregate it per
label with exact percentiles (``stats``), compare it with a baseline run (``compare``) and write an Excel workbook
(``excel``) and a self-contained HTML page (``html_report``, ``svg``). ``handler`` ties them to a Lambda event."""
