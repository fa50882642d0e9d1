"""What ``serve_servlet`` and ``serve_launch_wait`` print, as Racket's do: the URL where the
application runs, and why it could not start."""
from __future__ import annotations

import errno
import sys

__all__ = ["print_start_error", "server_url"]


def server_url(port: int, ssl: bool) -> str:
    """``http://localhost:PORT`` (no port where it is the scheme's own)."""
    scheme, default = ("https", 443) if ssl else ("http", 80)
    return f"{scheme}://localhost" + ("" if port == default else f":{port}")


def print_start_error(error: OSError, port: int) -> None:
    """Racket's words for a server that did not start, on standard error."""
    print("There was an error starting the Web server.", file=sys.stderr)
    if error.errno == errno.EADDRINUSE:
        print(f"\tThe TCP port ({port}) is already in use.", file=sys.stderr)
