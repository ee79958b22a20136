"""The README's command table is the registry's: a command added, renamed or described
anew fails here until the README says the same (regenerate the block with
`python -m daemon.commands.catalogue`)."""

from __future__ import annotations

from daemon.commands.catalogue import README_END, README_START, build_registry, markdown_catalogue
from tests.support.processes import REPO


def test_the_readme_lists_the_commands_the_registry_has() -> None:
    readme = (REPO / "README.md").read_text()
    start, end = readme.index(README_START), readme.index(README_END) + len(README_END)
    assert readme[start:end] == markdown_catalogue(build_registry())


def test_the_readme_starts_with_the_two_commands_and_the_screenshot() -> None:
    readme = (REPO / "README.md").read_text()
    block = readme.split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[:2] for line in block.splitlines()] == [["make", "run"], ["make", "test"]]
    assert "](docs/webchat.png)" in readme.split("## ", 1)[0]
    assert (REPO / "docs" / "webchat.png").read_bytes().startswith(b"\x89PNG")
