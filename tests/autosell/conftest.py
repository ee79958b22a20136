"""AutoSell's fixtures: the scripted price server, a store on each backend."""

from tests.support.price_server import prices  # noqa: F401  # a fixture, shared
from tests.support.stores import store  # noqa: F401  # a fixture, shared
