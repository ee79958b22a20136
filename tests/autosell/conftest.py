"""AutoSell's fixtures: the scripted price server."""

from tests.support.price_server import prices  # noqa: F401  # a fixture, shared
