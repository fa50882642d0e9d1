"""The Autobahn|Testsuite against an echo endpoint served through sequencer + filter +
service mapper (tests/conformance/echo_server.py).

Runs ../shared/tools/autobahn/run.sh (or ``$AUTOBAHN_RUN``), which needs Python 2.7
(pyenv's, or on PATH) and installs the suite from PyPI into a cached virtualenv.  Every
case runs, the 9.* ones (messages of up to 16 MiB, about 10 s) included; AUTOBAHN_CASES
and AUTOBAHN_EXCLUDE pick some (``AUTOBAHN_CASES='1.*,2.*,5.*'``).

The suite's client runs one case at a time, each message a round trip between two
single-threaded processes, so one client and its server keep at most one core busy, and
less while they wait on each other.  The cases are therefore split into
``$AUTOBAHN_JOBS`` groups (by default one more than the cores), each run by its own
client against its own echo server at the same time, and the reports summed: every case
selected runs exactly once.  (72 cases of 12.* and 13.* on two shared cores: 6 min 49 s
in one group, 3 min 35 s in two, 2 min 58 s in three.)
"""
from __future__ import annotations

import collections
import glob
import json
import os
import re
import shutil
import subprocess
import sys

import gevent
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = {"OK", "NON-STRICT", "INFORMATIONAL"}

# Seconds each part took in one run of the default selection (463 cases, ~16 min on two
# shared cores; 9.* alone, 54 cases: 9 s): what the groups are balanced by.  Parts are
# the suite's categories; 12 and 13 (permessage-deflate: 1,000 compressed round trips per
# case, ~99% of the time) are split into their subcategories.  A part not listed counts
# as one second.
WEIGHTS = {
    "1.*": 0.1, "2.*": 0.1, "3.*": 0.1, "4.*": 0.1, "5.*": 2, "6.*": 6, "7.*": 0.1,
    "9.*": 9, "10.*": 0.1,
    "12.1.*": 41, "12.2.*": 99, "12.3.*": 225, "12.4.*": 62, "12.5.*": 122,
    "13.1.*": 45, "13.2.*": 37, "13.3.*": 68, "13.4.*": 60, "13.5.*": 66, "13.6.*": 36,
    "13.7.*": 85,
}
#: seconds of WEIGHTS worth another group
SPLIT_ABOVE = 20


def run_sh():
    """run.sh beside the checkout, or beside the main checkout of this git worktree."""
    if os.environ.get("AUTOBAHN_RUN"):
        return os.environ["AUTOBAHN_RUN"]
    roots = [ROOT]
    dot_git = os.path.join(ROOT, ".git")
    if os.path.isfile(dot_git):  # a worktree: "gitdir: <main>/.git/worktrees/<name>"
        with open(dot_git) as f:
            gitdir = f.read().partition("gitdir:")[2].strip()
        roots.append(os.path.dirname(gitdir.split(os.sep + ".git" + os.sep)[0] + os.sep))
    for root in roots:
        candidate = os.path.join(root, "..", "shared", "tools", "autobahn", "run.sh")
        if os.path.exists(candidate):
            return os.path.normpath(candidate)
    return os.path.join(ROOT, "..", "shared", "tools", "autobahn", "run.sh")


RUN = run_sh()


def python27():
    candidates = glob.glob(os.path.expanduser("~/.pyenv/versions/2.7*/bin/python2.7"))
    candidates.append(shutil.which("python2.7") or "")
    return next((c for c in candidates if c and os.path.exists(c)), None)


def patterns(text: str) -> list:
    return [p.strip() for p in text.split(",") if p.strip()]


def _is_part(pattern: str) -> bool:
    """A pattern the suite matches as a prefix of numbered components ("12.*",
    "12.3.*", "6.4.2"), or ``*``: these are split; any other runs in one group."""
    return pattern == "*" or re.fullmatch(r"\d+(\.\d+)*(\.\*)?", pattern) is not None


def _covers(wide: str, narrow: str) -> bool:
    return wide == narrow or (wide.endswith("*") and narrow.startswith(wide[:-1]))


def split(cases: list, exclude: list, jobs: int) -> list:
    """``[(cases, exclude), ...]``: at most ``jobs`` selections whose union is what the
    suite selects for ``cases`` minus ``exclude``, each case in exactly one of them.
    The wildcards are cut into the parts of WEIGHTS they contain, spread over the
    groups, heaviest first, onto the lightest; the first group also runs the wildcards
    themselves minus every part another group runs, so a case that WEIGHTS does not
    name still runs once."""
    if not all(_is_part(p) for p in cases):
        return [(cases, exclude)]  # a pattern like "1*": run as asked, in one group
    wild = [p for p in cases if p.endswith("*")]
    parts = [p for p in WEIGHTS for w in wild if _covers(w, p)
             and not any(_covers(x, p) for x in exclude)]
    exact = [p for p in cases if p not in wild]
    parts = list(dict.fromkeys(parts + [p for p in exact if not any(
        _covers(w, p) and w != p for w in parts)]))
    # A group costs a client and a server to start (seconds): small selections run in
    # fewer groups, and none in more than there are parts.
    total = sum(WEIGHTS.get(p, 1) for p in parts)
    jobs = max(1, min(jobs, len(parts), int(total // SPLIT_ABOVE) + 1))
    groups: list = [[] for _ in range(jobs)]
    loads = [0.0] * len(groups)
    for part in sorted(parts, key=lambda p: -WEIGHTS.get(p, 1)):
        lightest = loads.index(min(loads))
        groups[lightest].append(part)
        loads[lightest] += WEIGHTS.get(part, 1)
    others = [p for group in groups[1:] for p in group]
    selections = [(wild + groups[0], exclude + others)] if wild or groups[0] else []
    return selections + [(group, exclude) for group in groups[1:] if group]


def test_split_runs_every_case_once():
    # Case ids of the suite's shape; 8.1.1 is in no part of WEIGHTS and runs too.
    ids = ["1.1.1", "1.2.8", "5.19", "6.4.1", "6.4.2", "9.1.1", "10.1.1", "12.3.16",
           "12.1.1", "13.7.18", "8.1.1"]

    def selected(cases, exclude):  # the suite's rule: prefix regexes, "*" as ".*"
        def matches(i, ps):
            return any(re.match(p.replace(".", r"\.").replace("*", ".*"), i) if "*" in p
                       else i == p for p in ps)
        return {i for i in ids if matches(i, cases) and not matches(i, exclude)}

    for cases, exclude in [(["*"], ["9.*"]), (["*"], []), (["1.*", "2.*", "5.*"], []),
                           (["12.*", "6.4.1"], ["12.1.*"]), (["*", "6.4.1"], ["9.*"]),
                           (["6.4.*", "6.4.1"], []), (["12.3.*"], []), (["1*"], []),
                           (["6.4.1", "6.4.1", "12.3.16"], [])]:
        for jobs in (1, 2, 3, 8):
            groups = split(cases, exclude, jobs)
            assert 1 <= len(groups) <= jobs
            runs = [selected(c, e) for c, e in groups]
            union = set().union(*runs)
            assert union == selected(cases, exclude), (cases, exclude, jobs)
            assert sum(len(r) for r in runs) == len(union), (cases, exclude, jobs)
    assert len(split(["*"], ["9.*"], 2)) == 2
    assert len(split(["*"], ["9.*"], 4)) == 4
    assert len(split(["1.*", "2.*", "5.*"], [], 4)) == 1  # seconds: not worth a second


def start_echo_server() -> tuple:
    server = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "tests", "conformance", "echo_server.py"), "0"],
        stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=ROOT))
    with gevent.Timeout(30, AssertionError("the echo server did not start")):
        line = server.stdout.readline()
    match = re.fullmatch(r"port (\d+)\n", line)
    assert match, f"the echo server said {line!r}"
    return server, int(match.group(1))


def run(port: int, report, cases: list, exclude: list) -> subprocess.Popen:
    return subprocess.Popen(["bash", RUN, f"ws://127.0.0.1:{port}/echo", str(report),
                             ",".join(cases), ",".join(exclude)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.skipif(not os.path.exists(RUN), reason="../shared/tools/autobahn/run.sh is missing")
@pytest.mark.skipif(python27() is None, reason="the Autobahn suite needs Python 2.7")
@pytest.mark.timeout(2000)  # the clients' own limit is 1800 s
def test_autobahn_conformance(tmp_path):
    cases = patterns(os.environ.get("AUTOBAHN_CASES", "*")) or ["*"]
    exclude = patterns(os.environ.get("AUTOBAHN_EXCLUDE", ""))
    jobs = int(os.environ.get("AUTOBAHN_JOBS", (os.cpu_count() or 1) + 1))
    groups = split(cases, exclude, jobs)
    servers = [start_echo_server() for _ in groups]
    try:
        venv = os.environ.get("AUTOBAHN_VENV", os.path.expanduser("~/.cache/autobahn-py27"))
        if not os.path.exists(os.path.join(venv, "bin", "wstest")):
            # run.sh installs the suite on its first run: once, before the parallel ones.
            warm = run(servers[0][1], tmp_path / "warm-up", ["1.1.1"], [])
            assert warm.wait(900) == 0, warm.communicate()
        clients = [run(port, tmp_path / f"report-{i}", c, e)
                   for i, ((c, e), (_, port)) in enumerate(zip(groups, servers))]
        results = {}
        for client, (c, e) in zip(clients, groups):
            out, err = client.communicate(timeout=1800)
            print(f"cases {c} minus {e}:\n{out[-1500:]}{err[-1500:]}")
            assert client.returncode == 0 and " 0 failed" in out, out[-3000:] + err[-3000:]
        for i in range(len(groups)):
            with open(tmp_path / f"report-{i}" / "index.json") as f:
                report = json.load(f)["testee"]
            assert not set(report) & set(results), "a case ran twice"
            results.update(report)
    finally:
        for server, _ in servers:
            server.terminate()
            server.wait(10)
            server.stdout.close()
    assert results, "no case ran"
    bad = {k: v for k, v in results.items()
           if v["behavior"] not in GOOD or v["behaviorClose"] not in GOOD}
    behaviours = collections.Counter(v["behavior"] for v in results.values())
    print(f"autobahn: {len(results)} cases in {len(groups)} groups, {dict(behaviours)}")
    assert not bad, bad
