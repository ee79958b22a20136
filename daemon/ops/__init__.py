"""Operator tools: the legacy-poller scan (and, with deploy, the supervisor watchdog)."""
