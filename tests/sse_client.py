"""A small streaming SSE client over a raw socket, for tests that need control over the
connection (never reading, closing at once, many at a time)."""
from __future__ import annotations

import socket

from dispatch.sse.encoder import split_lines


class RawSSE:
    def __init__(self, base: str, path: str = "/", headers: dict | None = None,
                 timeout: float = 5) -> None:
        host, port = base.split("//", 1)[1].split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=timeout)
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n".encode())
        self.buffer = b""
        self.head = self._read_until(b"\r\n\r\n")
        self.body = b""  # de-chunked, not yet parsed

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def _next_chunk(self) -> bytes:
        size = int(self._read_until(b"\r\n"), 16)
        if size == 0:
            raise EOFError("stream ended")
        while len(self.buffer) < size + 2:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(self.buffer)
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size + 2:]
        return data

    def messages(self, count: int, comments: bool = False) -> list[str]:
        """The next ``count`` messages (blocks of lines), comments skipped unless asked."""
        out: list[str] = []
        while len(out) < count:
            while b"\n\n" not in self.body:
                self.body += self._next_chunk()
            block, self.body = self.body.split(b"\n\n", 1)
            text = block.decode("utf-8")
            if comments or not all(line.startswith(":") for line in split_lines(text)):
                out.append(text)
        return out

    def events(self, count: int) -> list[dict]:
        events = []
        for message in self.messages(count):
            fields: dict = {}
            for line in split_lines(message):
                if line.startswith(":"):
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                fields[name] = fields[name] + "\n" + value if name in fields else value
            events.append(fields)
        return events

    def ended(self) -> bool:
        """Whether the server ends the stream (a last chunk or a closed socket)."""
        try:
            while True:
                self._next_chunk()
        except (EOFError, OSError):
            return True

    def close(self) -> None:
        self.sock.close()
