"""`[prices]` as operators write it: the issue's example loads; bad symbols, sources,
URLs and combinations are refused naming the key's full path and quoting the value."""

from __future__ import annotations

from pathlib import Path

import pytest

import daemon.features  # noqa: F401  # registers [prices]
from daemon.config import ConfigError, load_settings
from daemon.prices.settings import PricesSettings

EXAMPLE = """
[prices]
poll_interval = 10.0
max_age = 60.0

[prices.sources.binance]
base_url = "https://data-api.binance.vision"

[prices.sources.replay]
file = "/path/ticks.csv"
speed = 1.0

[[prices.symbols]]
symbol = "BTC/USDT"
source = "binance"
id = "BTCUSDT"

[[prices.symbols]]
symbol = "bitcoin/usd"
source = "coingecko"
id = "bitcoin"
fallback_source = "kraken"
fallback_id = "XBTUSD"
"""


def load(tmp_path: Path, toml: str) -> PricesSettings:
    path = tmp_path / "config.toml"
    path.write_text(toml)
    section: PricesSettings = load_settings(
        {"TRADEBOTD_CONFIG": str(path)}, require_token=False
    ).section("prices")
    return section


def test_the_documented_example_loads(tmp_path: Path) -> None:
    prices = load(tmp_path, EXAMPLE)
    assert [(s.name, s.base, s.quote) for s in prices.symbols] == [
        ("BTC/USDT", "BTC", "USDT"),
        ("BITCOIN/USD", "BITCOIN", "USD"),
    ]
    assert prices.source_interval("binance") == 10.0
    assert (prices.source_interval("coingecko"), prices.source_max_age("coingecko")) == (60, 180)
    assert prices.sources.replay.file == "/path/ticks.csv"


SYMBOL = '[[prices.symbols]]\nsymbol = "BTC/USDT"\nsource = "binance"\nid = "BTCUSDT"\n'


@pytest.mark.parametrize(
    ("toml", "error"),
    [
        (SYMBOL.replace('"BTC/USDT"', '"BTCUSDT"'),
         "prices.symbols[0].symbol: 'BTCUSDT' is not a symbol like BTC/USDT (base/quote)"),
        (SYMBOL.replace('"binance"', '"ftx"'),
         "prices.symbols[0].source: 'ftx' is not a price source (binance, coingecko, kraken, "
         "dexscreener, replay)"),
        (SYMBOL.replace('"BTCUSDT"', '" "'), "prices.symbols[0].id: BTC/USDT needs the source's "
         "id for it"),
        (SYMBOL + SYMBOL, "prices.symbols[1]: BTC/USDT is listed twice"),
        (SYMBOL.replace("binance", "coingecko"),
         "prices.symbols[0]: BTC/USDT is quoted in USDT, CoinGecko answers in usd "
         "(sources.coingecko.vs_currency)"),
        (SYMBOL.replace("binance", "dexscreener"),
         "prices.symbols[0]: DexScreener prices are in USD, not USDT"),
        (SYMBOL + 'fallback_source = "binance"\nfallback_id = "X"\n',
         "prices.symbols[0].fallback_source: 'binance' is not another price source"),
        ('[prices.sources.kraken]\nbase_url = "ftp://kraken"\n',
         "prices.sources.kraken.base_url: 'ftp://kraken' is not an http(s) URL"),
        ('[prices]\nmax_age = "2x"\n',
         "prices.max_age: '2x' is not a duration (seconds, or a number with s, m, h or d)"),
        ("[prices.sources.replay]\nspeed = 0\n",
         "prices.sources.replay.speed: must be between 0.01 and 10000, got 0"),
    ],
)  # fmt: skip
def test_bad_values_are_refused_naming_the_full_path(tmp_path: Path, toml: str, error: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(tmp_path, toml)
    assert str(refused.value) == f"{tmp_path / 'config.toml'}: {error}"
