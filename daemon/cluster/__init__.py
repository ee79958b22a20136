"""Active/standby nodes sharing one PostgreSQL database: the lease loop (member.py) and
the leader's terms (leadership.py). docs/ha.md has the design."""
