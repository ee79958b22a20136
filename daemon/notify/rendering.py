"""Documents rendered at delivery time (RenderLater): the renderers features register,
run in a worker thread, after the reply committed and outside every transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping

from daemon.notify.transport import Refused

Renderer = Callable[[Mapping[str, str]], bytes]
_RENDERERS: dict[str, Renderer] = {}


def register_renderer(name: str, renderer: Renderer) -> None:
    if _RENDERERS.get(name, renderer) is not renderer:
        raise ValueError(f"renderer {name!r} is registered twice")
    _RENDERERS[name] = renderer


async def render_document(name: str, args: Mapping[str, str]) -> bytes:
    """The document's bytes, made in a worker thread (a chart takes a while; the event
    loop goes on). Refused when nothing renders `name` or the renderer fails: a document
    that cannot be made will not be made by trying again."""
    renderer = _RENDERERS.get(name)
    if renderer is None:
        raise Refused(f"no renderer {name!r} in this build")
    try:
        return await asyncio.to_thread(renderer, args)
    except Exception as exc:
        raise Refused(f"rendering {name} failed: {type(exc).__name__}: {exc}") from exc
