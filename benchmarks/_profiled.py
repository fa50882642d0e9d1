"""Run a server under cProfile that records only between two signals.

usage: python -m benchmarks._profiled OUT.prof (-m MODULE | SCRIPT) ARGS...
SIGUSR1 starts recording, SIGUSR2 stops and writes OUT.prof.  Used by profile_http.py.
"""
import cProfile
import runpy
import signal
import sys

profile = cProfile.Profile()
out = sys.argv[1]


def start(signum, frame) -> None:
    profile.enable()


def stop(signum, frame) -> None:
    profile.disable()
    profile.dump_stats(out)


signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
if sys.argv[2] == "-m":
    sys.argv = [sys.argv[3], *sys.argv[4:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    sys.argv = sys.argv[2:]
    runpy.run_path(sys.argv[0], run_name="__main__")
