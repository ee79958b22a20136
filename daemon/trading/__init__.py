"""Paper trading: money, the double-entry journal, FIFO lots and order execution (pure),
and the broker that records fills."""
