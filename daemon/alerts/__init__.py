"""Alert routing: alerts, matchers, the routing tree, grouping and silences (pure), and
the parts that run: ingest, receivers, commands."""
