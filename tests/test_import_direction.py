"""The arrows docs/ARCHITECTURE.md promises, checked on the source: no two packages of
daemon/ import each other (directly or around a loop), the emulator imports nothing of
the daemon, pure policies import no I/O package, and only store/ imports peewee."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

DAEMON = Path(__file__).resolve().parent.parent / "daemon"
PACKAGES = sorted(p.name for p in DAEMON.iterdir() if (p / "__init__.py").exists())


def imports_of(path: Path) -> set[str]:
    """The modules a file imports: 'daemon.x.y', 'peewee', …"""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "daemon":
                found |= {f"daemon.{alias.name}" for alias in node.names}
    return found


def unit_of(module: str) -> str:
    """The package (or top-level module) of daemon a module belongs to."""
    return module.split(".")[1]


def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for path in DAEMON.rglob("*.py"):
        source = unit_of(".".join(path.relative_to(DAEMON.parent).with_suffix("").parts))
        for module in imports_of(path):
            if module.startswith("daemon.") and unit_of(module) != source:
                edges[source].add(unit_of(module))
    return edges


def test_no_two_packages_reach_each_other() -> None:
    edges = graph()

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return False

    cycles = [
        (a, b) for a in PACKAGES for b in PACKAGES if a < b and reaches(a, b) and reaches(b, a)
    ]
    assert cycles == []


def test_the_named_arrows_hold() -> None:
    edges = graph()
    assert edges["emulator"] == set()
    assert edges["policy"] == set()
    assert edges["notify"].isdisjoint({"telegram", "commands", "digest"})
    assert edges["store"].isdisjoint({"telegram", "notify", "commands", "digest"})
    assert "commands" not in edges["digest"]


def test_the_trading_core_is_pure() -> None:
    """Ledger math, lots, execution and the audit rules touch no database, network,
    Telegram or clock: values in, values out."""
    pure = ("money.py", "trading/journal.py", "trading/lots.py", "trading/execution.py",
            "trading/audit.py", "trading/positions.py")  # fmt: skip
    io = ("daemon.store", "daemon.telegram", "daemon.notify", "peewee", "aiohttp", "httpx",
          "daemon.clock", "datetime", "time")  # fmt: skip
    found = {
        name: sorted(m for m in imports_of(DAEMON / name) if m.startswith(io)) for name in pure
    }
    assert found == {name: [] for name in pure}


def test_the_autosell_core_is_pure() -> None:
    """Rules, decisions, the index and the views read no clock (`now` is passed in) and
    touch no database, network or Telegram."""
    pure = ("autosell/rules.py", "autosell/decide.py", "autosell/index.py", "autosell/views.py")
    io = ("daemon.store", "daemon.telegram", "daemon.notify", "daemon.prices", "peewee",
          "aiohttp", "httpx", "daemon.clock", "time", "asyncio")  # fmt: skip
    found = {
        name: sorted(m for m in imports_of(DAEMON / name) if m.startswith(io)) for name in pure
    }
    assert found == {name: [] for name in pure}
    sources = {name: (DAEMON / name).read_text() for name in pure}
    assert [n for n, text in sources.items() if ".now(" in text or "utcnow" in text] == []


def test_only_store_speaks_peewee() -> None:
    speaking = sorted(
        str(path.relative_to(DAEMON))
        for path in DAEMON.rglob("*.py")
        if any(m == "peewee" or m.startswith("playhouse") for m in imports_of(path))
    )
    assert all(path.startswith("store/") for path in speaking), speaking
