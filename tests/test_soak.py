"""The soak test (benchmarks/soak.py) as part of the suite: 10,000 connect/serve/disconnect
cycles mixing HTTP, SSE and WebSocket; greenlets back to baseline, RSS growth under 10%."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.timeout(360)  # the run's own limit is 300 s
def test_soak():
    result = subprocess.run([sys.executable, "-m", "benchmarks.soak", "--cycles", "10000",
                             "--seconds", "240"], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env=dict(os.environ, PYTHONPATH=ROOT))
    print(result.stdout, result.stderr[-2000:])
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    assert "soak: passed" in result.stdout
