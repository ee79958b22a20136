"""Alert tests' fixtures: a store on each backend."""

from tests.support.stores import store  # noqa: F401  # a fixture, shared
