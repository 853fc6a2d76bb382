"""Request parameters as bounded types: what the store and the clock can hold, nothing more.

Anything outside is a 422 in the error shape before a handler runs, and the bounds are in the
OpenAPI document, so a client (or a fuzzer) can see them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Path, Query

MAX_ID = 2**31 - 1  # ids are 32-bit integers in both stores
MAX_DAYS_REQUESTED = 36_500  # a century; larger is a typo, anything above the cap is clamped
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"  # no NUL, no control characters (PostgreSQL refuses NUL)

Id = Annotated[int, Path(ge=1, le=MAX_ID)]
IdFilter = Annotated[int | None, Query(ge=1, le=MAX_ID)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="rows to skip")]
Text = Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)]
NameContains = Annotated[
    str | None, Query(max_length=255, pattern=PRINTABLE, description="name contains")
]
Days = Annotated[
    int | None,
    Query(ge=1, le=MAX_DAYS_REQUESTED, description="whole number of days ≥ 1"),
]
Moment = Annotated[
    datetime | None,
    Query(description="ISO 8601 date and time between 2000 and 2100 (UTC unless an offset)"),
]
MetricKeys = Annotated[
    str | None,
    Query(max_length=255, pattern=PRINTABLE, description="comma-separated metric keys"),
]
