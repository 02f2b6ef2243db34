"""What the people who run jifen look at: Prometheus metrics (``metrics``), one JSON log
line per request and per task carrying a request id (``context``, ``logs``,
``middleware``, ``tasklog``), worker heartbeats, readiness and the system status
(``services``, ``selectors``, ``sql``). Core: it knows no domain app; the apps count their
own things through the helpers in ``metrics`` (docs/operations.md)."""
