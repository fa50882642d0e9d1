"""Streamed responses that outlive their request: see :mod:`dispatch.engine.detached`."""
from .engine.detached import MAX_BUFFERED, DetachedStream

__all__ = ["DetachedStream", "MAX_BUFFERED"]
