"""A local stand-in for api.telegram.org.

The emulator is a separate world: it imports nothing from the rest of `daemon`, and
the daemon imports it only to serve it (the CLI and the sandbox launcher).
"""
