"""dbsnooze: hour-by-hour activity history of cloud databases."""

from __future__ import annotations

__version__ = "0.1.0"
