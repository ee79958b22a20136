"""`tradebotd doctor`: one line per check of a host's tradebotd, OK / WARN / FAIL, with
the command that fixes each problem. It looks and changes nothing: no getUpdates (that
would fight the running poller), no write to the database, no file in the state
directory.

checks.py holds the verdicts (pure, over facts); facts are gathered by telegram.py (Bot
API), host.py (the lock, systemd, disk, legacy pollers) and store.py (the database, read
only); run.py puts them together and prints.
"""
