"""The Bot API's HTTP client (aiohttp) keeps PTB's contract: fields and uploads arrive, a silent server is a
``TimedOut``, an unreachable one a ``NetworkError``; and a poll waits until the queued updates are taken."""

from __future__ import annotations

import asyncio
import random
import socket
import time
from typing import Any, cast
from urllib.parse import urlencode

import pytest
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from bot.core.clock import SystemClock
from bot.telegram.http import AiohttpRequest, form_encoded
from bot.telegram.inbound import DurableUpdateQueue


async def _server(handler: Any) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/{method}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


async def test_fields_and_an_upload_arrive_as_telegram_expects() -> None:
    seen: dict[str, Any] = {}

    async def handler(request: web.Request) -> web.Response:
        form = await request.post()
        seen.update({k: (v.filename, v.file.read()) if isinstance(v, web.FileField) else v for k, v in form.items()})
        return web.json_response({"ok": True, "result": True})

    runner, url = await _server(handler)
    request = AiohttpRequest()
    await request.initialize()
    try:
        plain = RequestData([RequestParameter.from_input("chat_id", 5),
                             RequestParameter.from_input("text", "halo & <b>")])
        status, body = await request.do_request(f"{url}/sendMessage", "POST", plain)
        assert status == 200 and b'"ok": true' in body
        assert seen == {"chat_id": "5", "text": "halo & <b>"}
        seen.clear()
        upload = RequestData([RequestParameter.from_input("chat_id", 5),
                              RequestParameter.from_input("document", InputFile(b"isi berkas", filename="a.txt"))])
        await request.do_request(f"{url}/sendDocument", "POST", upload)
        assert seen["chat_id"] == "5" and seen["document"] == ("a.txt", b"isi berkas")
    finally:
        await request.shutdown()
        await runner.cleanup()


def test_fields_are_form_encoded_byte_for_byte_as_urlencode_does() -> None:
    """The answers' texts go as ``urlencode`` would send them (aiohttp's own way), whatever they hold."""
    rng = random.Random(16)
    alphabet = [chr(c) for c in range(0x250)] + list("✅✏️🙂 \n\t&=+%#?/;:,<>\"'") + ["\U0001F600", "\u200b"]
    samples = [{"chat_id": "-1001234", "text": "<b>Ringkasan</b> & jalan rusak 2 km — mohon 100% segera!"}]
    for _ in range(500):
        samples.append({"".join(rng.choices(alphabet, k=rng.randint(1, 6))):
                        "".join(rng.choices(alphabet, k=rng.randint(0, 80))) for _ in range(rng.randint(1, 4))})
    for fields in samples:
        assert form_encoded(fields) == urlencode(fields).encode("ascii")


async def test_a_silent_server_times_out_and_an_unreachable_one_is_a_network_error() -> None:
    async def silent(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({"ok": True, "result": True})

    runner, url = await _server(silent)
    request = AiohttpRequest(read_timeout=0.2)
    await request.initialize()
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        closed_port = free.getsockname()[1]
    try:
        started = time.monotonic()
        with pytest.raises(TimedOut):
            await request.do_request(f"{url}/getMe", "POST")
        assert time.monotonic() - started < 2
        with pytest.raises(NetworkError):
            await request.do_request(f"http://127.0.0.1:{closed_port}/getMe", "POST")
    finally:
        await request.shutdown()
        await runner.cleanup()


async def test_a_poll_waits_for_queued_updates_to_be_taken_but_not_for_long() -> None:
    queue = DurableUpdateQueue(db=cast(Any, None), clock=SystemClock())  # nothing is stored by these puts
    started = time.monotonic()
    await queue.settled()
    assert time.monotonic() - started < 0.05, "an empty queue: the poll goes at once"

    queue.put_nowait("first")
    queue.put_nowait("second")
    waiting = asyncio.create_task(queue.settled())
    await asyncio.sleep(0.05)
    assert not waiting.done(), "updates are waiting: the poll waits for them"
    queue.get_nowait()
    await asyncio.sleep(0.01)
    assert not waiting.done()
    queue.get_nowait()
    await asyncio.wait_for(waiting, 0.05)

    queue.put_nowait("stuck")
    started = time.monotonic()
    await queue.settled()
    assert DurableUpdateQueue.POLL_HOLD - 0.05 <= time.monotonic() - started < DurableUpdateQueue.POLL_HOLD + 0.3
