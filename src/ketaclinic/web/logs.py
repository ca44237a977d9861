"""The production server's own log lines as JSON, like Django's (``ketaclinic serve`` passes
``--logger-class ketaclinic.web.logs.JsonServerLogger`` to gunicorn).

An access line is one object: time, level, logger, request_id (the id the response carries in X-Request-ID,
so it matches the application's lines of the same request), method, path, status, duration_ms, bytes.
The query string is left out: it may name a patient search. A patient's link token is masked in the path.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from gunicorn.glogging import Logger
from pythonjsonlogger.json import JsonFormatter

from ketaclinic.base.tokens import path_for_records

JSON_FORMAT = "%(levelname)s %(name)s %(message)s"
RENAMED = {"levelname": "level", "name": "logger"}


class JsonServerLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)  # type: ignore[no-untyped-call]
        formatter = JsonFormatter(JSON_FORMAT, rename_fields=RENAMED, timestamp="time")  # UTC, ISO 8601
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: datetime.timedelta) -> None:
        if not (self.cfg.accesslog or self.cfg.logconfig or self.cfg.logconfig_dict):
            return
        headers = {name.lower(): value for name, value in resp.headers}
        self.access_log.log(
            logging.INFO,
            "request",
            extra={
                "request_id": headers.get("x-request-id", ""),
                "method": environ.get("REQUEST_METHOD", ""),
                "path": path_for_records(environ.get("PATH_INFO", "")),  # no link token in a log
                "status": resp.status_code,
                "duration_ms": round(request_time.total_seconds() * 1000, 1),
                "bytes": getattr(resp, "sent", 0),
            },
        )
