"""The Autobahn|Testsuite against an echo endpoint served through sequencer + filter +
service mapper (tests/conformance/echo_server.py).

Runs ../shared/tools/autobahn/run.sh, which needs Python 2.7 (pyenv's, or on PATH) and
installs the suite from PyPI into a cached virtualenv. The 9.* cases (large messages,
minutes of run time) are excluded unless AUTOBAHN_CASES says otherwise, e.g.
``AUTOBAHN_CASES='*' AUTOBAHN_EXCLUDE='' python -m pytest tests/test_autobahn.py``.
"""
import glob
import os
import shutil
import socket
import subprocess
import sys

import gevent
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "..", "shared", "tools", "autobahn", "run.sh")


def python27():
    candidates = glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7"))
    candidates.append(shutil.which("python2.7") or "")
    return next((c for c in candidates if c and os.path.exists(c)), None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(not os.path.exists(RUN), reason="../shared/tools/autobahn/run.sh is missing")
@pytest.mark.skipif(python27() is None, reason="the Autobahn suite needs Python 2.7")
def test_autobahn_conformance(tmp_path):
    port = free_port()
    server = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "conformance",
                                                            "echo_server.py"), str(port)],
                              env=dict(os.environ, PYTHONPATH=ROOT))
    with gevent.Timeout(15, AssertionError("the echo server did not start")):
        while True:  # bounded by the time-out: wait until it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                gevent.sleep(0.05)
    try:
        cases = os.environ.get("AUTOBAHN_CASES", "*")
        exclude = os.environ.get("AUTOBAHN_EXCLUDE", "9.*")
        result = subprocess.run(["bash", RUN, f"ws://127.0.0.1:{port}/echo",
                                 str(tmp_path / "report"), cases, exclude],
                                capture_output=True, text=True, timeout=1800)
        print(result.stdout[-3000:], result.stderr[-3000:])
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        assert " 0 failed" in result.stdout
    finally:
        server.kill()
        server.wait()
