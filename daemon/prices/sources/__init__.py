"""One thin client per price source, each speaking that API's documented JSON."""
