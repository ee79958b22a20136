"""The leadership lease's timing, on this node's monotonic clock. Pure.

The database stamps a renewal's expiry with its own clock when the statement runs, after
this node sent it. Counting the lease from the moment the renewal was *sent* therefore
ends this node's permit no later than the database's expiry, whatever the two clocks
read; `GUARD` more covers the two clocks running at slightly different rates and an
answer on the wire. Until its permit ends the leader may poll; a getUpdates is only sent
when it is sure to be answered before then, so no standby that takes over after the
expiry can overlap it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Seconds kept between the end of this node's permit and the database's expiry.
GUARD = 0.5
# Seconds allowed for a getUpdates answer to arrive after its long poll ends.
ANSWER_SLACK = 1.0
# A standby looks at the lease at least this often (seconds): a takeover comes within
# this of the expiry.
STANDBY_LOOK_MAX = 1.0


@dataclass(frozen=True)
class LeaseTiming:
    lease: float  # seconds, as [ha] lease says

    @property
    def renew_every(self) -> float:
        """A leader renews four times a lease: three renewals in a row may fail (a
        slow database) before its permit runs out."""
        return self.lease / 4

    @property
    def look_every(self) -> float:
        return min(STANDBY_LOOK_MAX, self.lease / 4)

    def permit_until(self, renewal_sent_at: float) -> float:
        """Until when a leader whose renewal (or takeover) was sent at this moment may
        poll and apply effects."""
        return renewal_sent_at + self.lease - GUARD

    def poll_seconds(self, now: float, permit_until: float, configured: int) -> int | None:
        """The long-poll timeout a getUpdates sent now may ask for so that its answer
        comes before the permit ends; None: do not send one now (wait for a renewal)."""
        room = math.floor(permit_until - now - ANSWER_SLACK)
        # A long poll of at least a second, or none: short polls in a row while the
        # permit runs low would hammer the Bot API. (The first poll of a term is short.)
        if room < min(1, configured):
            return None
        return min(configured, room)
