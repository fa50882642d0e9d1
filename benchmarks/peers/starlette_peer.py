"""Benchmark peer: the harness's endpoints on Starlette, served by uvicorn as its users
run it (httptools parser, uvloop when installed, one worker, no access log).

    GET  /              the constant 114 B page (text/html)
    GET  /ws            WebSocket echo (text stays text, binary stays binary)
    GET  /sse           event stream; POST /publish?n=N broadcasts N events "<seq> <ms>"

usage: python starlette_peer.py PORT
"""
from __future__ import annotations

import asyncio
import importlib.util
import sys
import time

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

PAGE = ('<html><head><title>Events test</title></head><body><h1>Welcome</h1>'
        '<textarea readonly=""></textarea></body></html>')
streams: set[asyncio.Queue] = set()


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])
    except WebSocketDisconnect:
        pass


async def sse(request: Request) -> StreamingResponse:
    queue: asyncio.Queue = asyncio.Queue()

    async def events():
        streams.add(queue)
        try:
            yield b": open\n\n"  # the headers leave with the first chunk
            while True:
                yield await queue.get()
        finally:
            streams.discard(queue)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})


async def publish(request: Request) -> PlainTextResponse:
    n = int(request.query_params.get("n", "1"))
    for i in range(n):
        event = f"data: {i} {int(time.time() * 1000)}\n\n".encode()
        for queue in list(streams):
            queue.put_nowait(event)
        if i % 10 == 9:  # let the streams write between batches, as every peer does
            await asyncio.sleep(0)
    return PlainTextResponse("ok")


app = Starlette(routes=[
    Route("/", page),
    WebSocketRoute("/ws", echo),
    Route("/sse", sse),
    Route("/publish", publish, methods=["POST"]),
])


def main() -> None:
    port = int(sys.argv[1])
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    print(f"starlette on uvicorn, http=httptools loop={loop}", flush=True)
    uvicorn.run(app, host="127.0.0.1", port=port, http="httptools", loop=loop, workers=1,
                access_log=False, log_level="warning", backlog=4096,
                ws_max_size=2 << 20,
                # aiohttp's keep-alive timeout, not uvicorn's 5 s: the memory rows hold
                # idle connections longer than that
                timeout_keep_alive=75)


if __name__ == "__main__":
    main()
