"""The heartbeat digest: facts from the database, rendered by small section plug-ins, sent
by `tradebotd digest` (a oneshot on a systemd timer) or previewed with /digest."""
