"""AutoSell: exit rules, the engine and its commands."""
