"""PTB's networking backend on aiohttp's client instead of httpx.

python-telegram-bot lets an application bring its own `BaseRequest`; its maintainers keep
one on aiohttp in ptbcontrib (not on PyPI), which this one follows. The reason is CPU:
under load the daemon spent most of its time in httpx and anyio per request, and the
sender's throughput is bounded by it; aiohttp's client does the same request in a
fraction of that (bench/daemon_throughput.py measures it against a bare PTB bot).
PTB keeps everything above the socket: building the form, mapping statuses to
`telegram.error`, parsing the answer.
"""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# The same defaults as PTB's HTTPXRequest, so a timeout means what it meant before.
DEFAULT_CONNECT = 5.0
DEFAULT_READ = 5.0
DEFAULT_WRITE = 5.0
DEFAULT_POOL = 1.0
MEDIA_WRITE = 20.0


def _pick(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _total(*parts: float | None) -> float | None:
    """An upper bound for the whole request: aiohttp has no write timeout of its own."""
    return None if any(part is None for part in parts) else sum(p or 0.0 for p in parts)


def proxy_from_environment(url: str) -> str | None:
    """The HTTP(S) proxy the environment names for `url` (HTTPS_PROXY, HTTP_PROXY,
    ALL_PROXY, NO_PROXY), as httpx honoured them. Asked once per host, not per request:
    aiohttp's trust_env reads the environment and ~/.netrc in a thread on every request."""
    parts = urlsplit(url)
    if parts.hostname is None or urllib.request.proxy_bypass(parts.hostname):
        return None
    proxies = urllib.request.getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


class AiohttpRequest(BaseRequest):
    """One aiohttp session with at most `connection_pool_size` connections."""

    def __init__(
        self,
        *,
        user_agent: str,
        connection_pool_size: int = 1,
        read_timeout: float | None = DEFAULT_READ,
        connect_timeout: float | None = DEFAULT_CONNECT,
        write_timeout: float | None = DEFAULT_WRITE,
        pool_timeout: float | None = DEFAULT_POOL,
    ):
        self._user_agent = user_agent
        self._pool_size = connection_pool_size
        self._read = read_timeout
        self._connect = connect_timeout
        self._write = write_timeout
        self._pool = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read

    async def initialize(self) -> None:
        # The session is made here, inside the running loop it belongs to.
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self._user_agent},
                # PTB raises on statuses itself; aiohttp must hand every answer over.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data is not None and request_data.contains_files
        read = _pick(read_timeout, self._read)
        connect = _pick(connect_timeout, self._connect)
        pool = _pick(pool_timeout, self._pool)
        write = _pick(write_timeout, MEDIA_WRITE if files else self._write)
        timeout = aiohttp.ClientTimeout(
            total=_total(pool, connect, write, read),
            connect=_total(pool, connect),
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method, url, data=_body(request_data), timeout=timeout, proxy=self._proxy(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc

    def _proxy(self, url: str) -> str | None:
        parts = urlsplit(url)
        where = (parts.scheme, parts.netloc)
        if where not in self._proxies:
            self._proxies[where] = proxy_from_environment(url)
        return self._proxies[where]


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """A urlencoded form, or multipart when files go along, as PTB's httpx backend sends."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData(request_data.json_parameters)
    for name, (filename, content, content_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=content_type)
    return form
