"""Price feeds: keyless clients for Binance, CoinGecko, Kraken and DexScreener, a replay
of recorded ticks, and the book of the latest quote per symbol (docs/paper.md)."""
