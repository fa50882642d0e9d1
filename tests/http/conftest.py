"""Fixtures of the HTTP/1.1 framing corpus: a recording servlet served on a real socket."""
from __future__ import annotations

import pytest

from tests.http.rawhttp import Recorder


class Recorded:
    """A served :class:`rawhttp.Recorder`: ``port``, ``seen``, ``base``."""

    def __init__(self, base: str, recorder: Recorder) -> None:
        self.base = base
        self.port = int(base.rsplit(":", 1)[1])
        self.recorder = recorder

    @property
    def seen(self) -> list:
        return self.recorder.seen


@pytest.fixture
def recorded(served):
    """The recording servlet, served alone with the default safety limits."""
    recorder = Recorder()
    return Recorded(served(recorder.dispatcher()), recorder)


@pytest.fixture
def recorded_with(served):
    """``recorded_with(**serve_options)``: the recording servlet with other options
    (``safety_limits=...``)."""

    def start(**options) -> Recorded:
        recorder = Recorder()
        return Recorded(served(recorder.dispatcher(), **options), recorder)

    return start
