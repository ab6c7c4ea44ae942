"""The bot's HTTP client for the Bot API: PTB's ``BaseRequest`` over aiohttp instead of PTB's default httpx.

Every update costs the bot a few Bot API calls (the answer, a button's acknowledgement, the outbox's forwards, a
share of a ``getUpdates``), and with httpx (pure Python, over httpcore, anyio and h11) each call cost about 0.9 ms
of CPU, more than all of Sambang's own work on an update. aiohttp parses HTTP in C: about 0.25 ms a call. PTB's
contract is kept: the same default timeouts as its ``HTTPXRequest``, a timeout raises ``TimedOut``, any other
transport failure ``NetworkError``, and PTB itself reads the status and the body (errors, ``retry_after``).
"""

from __future__ import annotations

import functools
import urllib.request

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

#: ``urllib.parse.urlencode``'s form encoding (``quote_plus``) as one table for ``str.translate``: each byte of the
#: UTF-8 text that is not always safe becomes ``%XX``, a space ``+``. Same bytes as ``urlencode`` (which aiohttp
#: would call on a dict of fields), but in C: ``urlencode`` quotes byte by byte in Python, and the texts and
#: keyboards of Sambang's answers made that 35–39 µs of a call's ~230 µs (17 µs this way).
_ALWAYS_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_FORM_TABLE = {byte: "+" if byte == 0x20 else chr(byte) if byte in _ALWAYS_SAFE else f"%{byte:02X}"
               for byte in range(256)}
FORM_CONTENT_TYPE = {"Content-Type": "application/x-www-form-urlencoded"}


def _quoted(text: str) -> str:
    return text.encode().decode("latin-1").translate(_FORM_TABLE)  # latin-1: one character per UTF-8 byte


def form_encoded(fields: dict[str, str]) -> bytes:
    """``fields`` as an ``application/x-www-form-urlencoded`` body, byte for byte what ``urlencode`` gives."""
    return "&".join(f"{_quoted(key)}={_quoted(value)}" for key, value in fields.items()).encode("ascii")


@functools.lru_cache(maxsize=64)
def _timeout(read: float | None, write: float | None, connect: float | None,
             pool: float | None) -> aiohttp.ClientTimeout:
    """aiohttp has no write timeout of its own: sending a request counts against the whole call's limit."""
    wait_for_connection = None if connect is None or pool is None else connect + pool
    total = None if read is None or write is None or wait_for_connection is None else (
        wait_for_connection + write + read)
    return aiohttp.ClientTimeout(total=total, connect=wait_for_connection, sock_connect=connect, sock_read=read)


class AiohttpRequest(BaseRequest):
    """One aiohttp session (opened by ``initialize``, closed by ``shutdown``) with at most
    ``connection_pool_size`` connections. Timeouts as PTB's ``HTTPXRequest``: seconds, ``None`` for none."""

    def __init__(self, connection_pool_size: int = 256, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                # HTTP(S)_PROXY honoured as httpx did; looking them up costs every call, so only when one is set
                trust_env=bool(urllib.request.getproxies()),
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
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        data: aiohttp.FormData | bytes | None = None
        headers = None
        if files:
            form = aiohttp.FormData(fields or {})
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        elif fields:
            data, headers = form_encoded(fields), FORM_CONTENT_TYPE
        timeout = _timeout(
            self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout,
            (self._media_write_timeout if files else self._write_timeout)
            if isinstance(write_timeout, DefaultValue) else write_timeout,
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout,
            self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout,
        )
        try:
            async with session.request(method, url, data=data, headers=headers, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
