"""The benchmark harness's own logic: the app it serves, its statistics, targets and
reports.  No load is generated here (benchmarks/ is run as ``python -m benchmarks``)."""
from __future__ import annotations

import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest

from benchmarks import app as bench_app
from benchmarks import inproc, loads, report, run
from benchmarks.report import Row
from benchmarks.run import parse_args
from benchmarks.servers import REPO, SERVERS, Running, baseline, peer_missing, process_tree
from dispatch.testing import Client, run_dispatcher, sse_connect, websocket_connect
from servlets import dispatch_servlet


def test_the_page_is_the_seed_page_through_the_dispatcher_chain():
    dispatcher, _ = bench_app.make_app()
    response = Client(dispatcher).get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert body.startswith('<html><head><meta http-equiv="content-type"')
    assert "<title>Events test</title>" in body
    assert "<h1>Welcome to the Events test</h1>" in body
    assert 'var evtSource = new EventSource("/sse/");' in body
    assert 'textArea.value =  e.data + "\\n" + textArea.value ;' in body


def test_unknown_paths_are_declined_to_404():
    dispatcher, _ = bench_app.make_app()
    assert Client(dispatcher).get("/nope").status_code == 404


def test_missing_services_answer_501_and_say_why():
    dispatcher, found = bench_app.make_app()
    client = Client(dispatcher)
    if found.sse_missing:
        answer = client.get("/sse")
        assert answer.status_code == 501
        assert "dispatch.sse not available" in answer.get_data(as_text=True)
        assert client.post("/publish?n=1").status_code == 501
    if found.ws_missing:
        assert client.get("/ws").status_code == 501
    if not (found.sse_missing or found.ws_missing):
        pytest.skip("both services are present in this checkout")


def test_features_agree_with_the_app():
    _, found = bench_app.make_app()
    assert bool(bench_app.features().sse_missing) == bool(found.sse_missing)
    assert bool(bench_app.features().ws_missing) == bool(found.ws_missing)


def test_publish_sends_n_events_of_sequence_and_milliseconds():
    sent: list[str] = []
    conn = run_dispatcher(dispatch_servlet(bench_app._publisher(sent.append)), "/publish",
                          method="POST", query_string="n=25")
    assert conn.response.status_code == 200
    assert [s.split()[0] for s in sent] == [str(i) for i in range(25)]
    assert all(s.split()[1].isdigit() and len(s.split()[1]) >= 13 for s in sent)


def _row(key="http32_rps", higher=True, **samples) -> Row:
    row = Row(key, "HTTP", "HTTP seed page, 32 keep-alive conns", "requests/s", higher, "wrk")
    for server, values in samples.items():
        for v in values:
            row.add(server, v)
    return row


def test_median_spread_and_ratio():
    row = _row(ours=[90.0, 100.0, 300.0], gevent_raw_nodelay=[100.0, 110.0, 120.0])
    assert row.median("ours") == 100.0
    assert row.spread("ours") == (90.0, 300.0)
    assert row.ratio("gevent_raw_nodelay") == pytest.approx(100 / 110)
    assert row.ratio("aiohttp") is None


@pytest.mark.parametrize("ours, peer, verdicts", [
    (125.0, 100.0, ("met", "met")), (115.0, 100.0, ("met", "NOT met")),
    (105.0, 100.0, ("NOT met", "NOT met"))])
def test_targets_are_printed_met_or_not(ours, peer, verdicts):
    row = _row(ours=[ours], aiohttp=[peer])
    assert report.target_status(row) == (
        f">= 1.1x aiohttp (#21): {verdicts[0]}; >= 1.2x aiohttp (#12): {verdicts[1]}")


def test_a_target_without_figures_is_not_applicable():
    row = _row(key="mem_sse_kib", higher=False)
    row.skipped["ours"] = "dispatch.sse not available"
    assert report.target_status(row) == "<= 12 KiB: n/a"


def test_tables_show_spread_ratio_skips_and_failures():
    servers = [("ours", "gevent-dispatch"), ("gevent_raw_nodelay", "gevent raw NODELAY"),
               ("aiohttp", "aiohttp")]
    ok = _row(ours=[900.0, 1000.0, 1100.0], gevent_raw_nodelay=[2000.0])
    ok.fail("aiohttp", "wrk timed out after 35 s")
    skipped = _row(key="sse1000_dps")
    skipped.skipped["ours"] = "dispatch.sse not available"
    text = report.render_text([ok, skipped], servers, ["head"], ["a note"])
    assert "1,000 (900–1,100)" in text and "0.50x" in text
    assert "failed" in text and "wrk timed out after 35 s" in text
    assert "gevent-dispatch: skipped: dispatch.sse not available" in text
    assert "* a note" in text
    markdown = report.render_markdown([ok, skipped], servers, ["head"], [])
    assert "| measurement | gevent-dispatch | gevent raw NODELAY | ratio |" in markdown
    assert "![chart](chart.png)" in markdown


def test_write_all_writes_markdown_json_and_chart(tmp_path):
    pytest.importorskip("matplotlib")
    servers = [("ours", "gevent-dispatch"), ("aiohttp", "aiohttp")]
    rows = [_row(ours=[1.0, 2.0], aiohttp=[2.0])]
    for clients in (100, 1000):
        for suffix, higher in (("dps", True), ("p50", False), ("p99", False)):
            r = Row(f"sse{clients}_{suffix}", "SSE", f"SSE {clients}", suffix, higher, "node",
                    {"clients": clients})
            r.add("ours", clients / 10)
            r.add("aiohttp", clients / 20)
            rows.append(r)
    report.write_all(tmp_path, rows, servers, ["head"], [], {"when": "now"})
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["rows"][0]["median"] == {"ours": 1.5, "aiohttp": 2.0}
    assert (tmp_path / "results.md").read_text().startswith("# gevent-dispatch benchmarks")
    assert (tmp_path / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_load_client_results_are_read_from_their_last_json_line():
    out = "Running 5s test\nWRKJSON {\"requests\": 3}\n"
    assert loads._last_json(out, "WRKJSON ") == {"requests": 3}
    with pytest.raises(loads.LoadError):
        loads._last_json("no figures here")


def test_a_cpu_figure_needs_enough_clock_ticks_to_mean_anything():
    tick = 1 / os.sysconf("SC_CLK_TCK")
    # 10,000 SSE deliveries in one tick: no figure, rather than 0 or 1 µs per delivery
    assert loads.cpu_us_per(tick, 10_000) is None
    assert loads.cpu_us_per((loads.MIN_CPU_TICKS - 1) * tick, 10_000) is None
    used = loads.MIN_CPU_TICKS * tick
    assert loads.cpu_us_per(used, 10_000) == pytest.approx(used / 10_000 * 1e6)
    assert loads.cpu_us_per(None, 10) is None and loads.cpu_us_per(1.0, 0) is None


def test_quick_and_section_options():
    args = parse_args(["--quick", "--only", "http,sse"])
    assert (args.repeat, args.sse_clients, args.idle) == (1, [100, 1000], 1000)
    assert args.only == ["http", "sse"]
    assert args.servers[0] == "ours"
    assert parse_args(["--quick", "--sse-clients", "10"]).sse_clients == [10]
    assert parse_args([]).repeat == 3
    assert parse_args(["--only", "inproc"]).only == ["inproc"]
    assert (parse_args(["--quick"]).inproc_rounds, parse_args([]).inproc_rounds) == (3, 5)
    with pytest.raises(SystemExit):
        parse_args(["--only", "nonsense"])
    with pytest.raises(SystemExit):
        parse_args(["--inproc-count", "0"])


# -- the constant page, the new peers, the in-process rows -------------------------------

def test_the_constant_page_is_the_peers_page_through_the_same_layout():
    seed, _ = bench_app.make_app("seed")
    const, _ = bench_app.make_app("const")
    answer = Client(const).get("/")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    assert answer.get_data() == bench_app.CONST_PAGE and len(bench_app.CONST_PAGE) == 114
    # the same chain in front of it: the other paths route as in the seed app
    for path in ("/nope", "/publish", "/ws"):
        assert Client(const).get(path).status_code == Client(seed).get(path).status_code
    with pytest.raises(ValueError, match="page must be one of seed, const"):
        bench_app.make_app("constant")


def _spec(key: str):
    return next(s for s in SERVERS if s.key == key)


def _peer(key: str, tmp_path: Path) -> Running:
    why = peer_missing(key)
    if why:
        pytest.skip(why)
    return Running(_spec(key), tmp_path, tmp_path, ready_timeout=30)


def _get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


def _publish_and_receive(base: str, n: int) -> list[str]:
    with sse_connect(base + "/sse", timeout=10) as events:
        assert events.status_code == 200
        # the stream is registered once its head arrived: the peers send it with the
        # first chunk, after subscribing
        request = urllib.request.Request(f"{base}/publish?n={n}", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.read() == b"ok"
        return [events.receive(timeout=10).data for _ in range(n)]


@pytest.mark.parametrize("key", ["starlette", "flask"])
def test_peer_serves_the_constant_page_and_events(key, tmp_path):
    with _peer(key, tmp_path) as server:
        status, mime, body = _get(server.url + "/")
        assert (status, body) == (200, bench_app.CONST_PAGE)
        assert mime.startswith("text/html")
        data = _publish_and_receive(server.url, 3)
        assert [d.split()[0] for d in data] == ["0", "1", "2"]
        assert all(d.split()[1].isdigit() for d in data)
        assert server.cpu() > 0 and server.rss() > 0


def test_starlette_echoes_text_as_text_and_binary_as_binary(tmp_path):
    with _peer("starlette", tmp_path) as server:
        with websocket_connect(f"ws://127.0.0.1:{server.port}/ws", timeout=10) as ws:
            ws.send_text("héllo")
            assert ws.receive_text() == "héllo"
            ws.send_bytes(b"\x00\xff" * 40_000)
            assert ws.receive_bytes() == b"\x00\xff" * 40_000


def test_flask_under_gunicorn_is_measured_as_its_whole_process_tree(tmp_path):
    with _peer("flask", tmp_path) as server:
        _get(server.url + "/")  # the worker is up once it answered
        tree = process_tree(server.pid)
        assert tree[0] == server.pid and len(tree) >= 2  # the arbiter and its worker
    assert "ws" not in _spec("flask").sections


def test_raw_gevent_without_nodelay_has_no_http_rows():
    assert "http" not in _spec("gevent_raw").sections
    assert "http" in _spec("gevent_raw_nodelay").sections
    assert {"ws", "sse", "memory"} <= _spec("gevent_raw").sections


def test_several_targets_on_one_row_each_have_a_verdict():
    row = _row(key="const32_rps", ours=[130.0], aiohttp=[100.0], starlette=[120.0],
               flask=[30.0])
    assert report.target_status(row) == (
        ">= 1.3x aiohttp: met; >= 1.2x Starlette: NOT met; >= 4x Flask: met")


def test_inproc_measures_every_case_and_says_whether_compiled():
    result = inproc.measure(count=50, rounds=1, seconds=1.0)
    assert set(result["us"]) == {case for case, _, _ in inproc.CASES}
    assert all(v > 0 for k, v in result["us"].items() if k != "decline")
    # the dispatcher chain costs more than a bare WSGI app
    assert result["us"]["const"] > result["us"]["bare"]
    assert result["compiled"] == inproc.compiled()
    with pytest.raises(ValueError, match="must be positive"):
        inproc.measure(count=0)


def test_inproc_refuses_a_case_that_does_not_answer_its_page(monkeypatch):
    apps = inproc.applications()

    def not_found(environ, start_response):
        start_response("404 Not Found", [])
        return [b"no"]

    monkeypatch.setattr(inproc, "applications", lambda: dict(apps, const=not_found))
    with pytest.raises(RuntimeError, match="'const' answered 404"):
        inproc.measure(count=10, rounds=1)


def test_wrk_durations_are_whole_seconds():
    assert (loads._whole(0.3), loads._whole(1.0), loads._whole(2.5)) == (1, 1, 3)
    with pytest.raises(loads.LoadError, match="wrk did not run"):
        loads._wrk_ran("Usage: wrk <options> <url>\n  Options: ...")


def test_quick_run_has_the_new_rows_for_every_server(tmp_path):
    """One short run of ``python -m benchmarks``: the HTTP rows of this project (seed
    and constant page) and of the new peers, and the in-process rows in both modes."""
    if shutil.which("wrk") is None:
        pytest.skip("wrk not installed")
    try:
        run.locate_tools(None)
    except SystemExit as exc:
        pytest.skip(str(exc))
    out = tmp_path / "out"
    assert run.main(["--only", "http,inproc", "--servers", "starlette,flask",
                     "--repeat", "1", "--duration", "1", "--warmup", "0",
                     "--inproc-count", "200", "--inproc-rounds", "1", "--out", str(out)]) == 0
    data = json.loads((out / "results.json").read_text())
    rows = {r["key"]: r for r in data["rows"]}
    for key in ("const1_rps", "const32_rps", "const32_cpu", "http1_rps", "http32_rps"):
        assert rows[key]["median"]["ours"] > 0, key
    for peer in ("starlette", "flask"):
        why = peer_missing(peer)
        if why:
            assert rows["const32_rps"]["skipped"][peer] == why
            continue
        # one run of the peer's page, in both rows
        assert rows["const32_rps"]["samples"][peer] == rows["http32_rps"]["samples"][peer]
        assert rows["const32_rps"]["ratio"][peer] > 0
    for mode in ("ext", "pure"):
        for case, _, _ in inproc.CASES:
            assert len(rows[f"inproc_{mode}_{case}"]["samples"]["ours"]) == 1
    assert "_compiled=" in rows["inproc_pure_const"]["title"]
    markdown = (out / "results.md").read_text()
    assert "HTTP constant 114 B page, 32 keep-alive conns" in markdown
    assert "In process (NO_EXTENSIONS=1" in markdown


def test_inproc_alone_needs_no_server_and_no_shared_tools(tmp_path):
    out = tmp_path / "out"
    assert run.main(["--only", "inproc", "--tools", str(tmp_path / "none"),
                     "--inproc-count", "100", "--inproc-rounds", "1",
                     "--out", str(out)]) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["servers"] == {"ours": "gevent-dispatch"}
    assert {r["key"].split("_")[0] for r in data["rows"]} == {"inproc"}


def test_a_peer_whose_package_is_missing_is_skipped_with_the_reason(monkeypatch, tmp_path):
    import importlib.util

    from benchmarks import servers

    real = importlib.util.find_spec
    monkeypatch.setattr(servers.importlib.util, "find_spec",
                        lambda name, *a: None if name == "gunicorn" else real(name, *a))
    assert peer_missing("flask") == "gunicorn not installed (pip install -e '.[bench]')"
    runs, why = servers.available(tmp_path)
    assert runs["flask"] == set() and why["flask"] == peer_missing("flask")
    # our own peers do not depend on the shared tools folder (empty here)
    assert runs["starlette"] == (set() if peer_missing("starlette") else
                                 {"http", "ws", "sse", "memory"})
    assert why["gevent_raw"].startswith("peers not found")


# -- --baseline: another checkout of this project, side by side -------------------------

_FAKE_APP = '''
import sys

from gevent.pywsgi import WSGIServer

import dispatch


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [dispatch.__file__.encode()]


WSGIServer(("127.0.0.1", int(sys.argv[1])), app, log=None).serve_forever()
'''


def test_a_baseline_serves_its_own_checkout_not_this_one(tmp_path):
    checkout = tmp_path / "older"
    for package in ("benchmarks", "dispatch"):
        (checkout / package).mkdir(parents=True)
        (checkout / package / "__init__.py").write_text("")
    (checkout / "benchmarks" / "app.py").write_text(_FAKE_APP)
    spec = baseline(checkout)
    assert spec.label == "gevent-dispatch @older"  # not a git checkout: its folder's name
    with Running(spec, tmp_path, tmp_path, ready_timeout=30) as server:
        status, _, body = _get(server.url + "/")
    assert (status, body.decode()) == (200, str(checkout / "dispatch" / "__init__.py"))


def test_this_checkout_as_its_own_baseline_serves_every_endpoint(tmp_path):
    spec = baseline(REPO)
    assert spec.label.startswith("gevent-dispatch @") and spec.label != "gevent-dispatch @"
    with Running(spec, tmp_path, tmp_path, ready_timeout=30) as server:
        status, _, body = _get(server.url + "/")
        assert status == 200 and b"Welcome to the Events test" in body
        data = _publish_and_receive(server.url, 2)
        assert [d.split()[0] for d in data] == ["0", "1"]
        with websocket_connect(f"ws://127.0.0.1:{server.port}/ws", timeout=10) as ws:
            ws.send_text("echo")
            assert ws.receive_text() == "echo"


def test_the_baseline_column_comes_right_after_this_project(tmp_path):
    with pytest.raises(SystemExit):
        parse_args(["--baseline", str(tmp_path)])  # no benchmarks/app.py there
    args = parse_args(["--only", "inproc", "--servers", "aiohttp", "--baseline", str(REPO)])
    bench = run.Bench(args, tmp_path, tmp_path / "out")
    assert [s.key for s in bench.specs] == ["ours", "baseline", "aiohttp"]
    assert bench.runs["baseline"] == {"http", "ws", "sse", "memory"}
    without = run.Bench(parse_args(["--only", "inproc"]), tmp_path, tmp_path / "out2")
    assert "baseline" not in [s.key for s in without.specs] and "baseline" not in without.runs
