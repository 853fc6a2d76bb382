"""The providers behind the seam, picked by an account's or an instance's provider."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from dbsnooze.domain import Provider
from dbsnooze.providers.aws.provider import AwsProvider
from dbsnooze.providers.base import CloudProvider
from dbsnooze.providers.gcp.provider import GcpProvider

if TYPE_CHECKING:
    from dbsnooze.context import Context

# Built on each use from the context's current sessions, clock and settings: cheap, and a test
# that swaps one of them is heard at once.
_FACTORIES: dict[Provider, Callable[[Context], CloudProvider]] = {
    Provider.AWS: lambda ctx: AwsProvider(ctx.clients, ctx.settings, ctx.clock),
    Provider.GCP: lambda ctx: GcpProvider(ctx.gcp, ctx.settings, ctx.clock, sleep=ctx.gcp.sleep),
}


def provider(ctx: Context, kind: Provider | str) -> CloudProvider:
    return _FACTORIES[Provider(kind)](ctx)
