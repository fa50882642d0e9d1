"""The benchmark harness's own logic: the app it serves, its statistics, targets and
reports.  No load is generated here (benchmarks/ is run as ``python -m benchmarks``)."""
from __future__ import annotations

import json

import pytest

from benchmarks import app as bench_app
from benchmarks import loads, report
from benchmarks.report import Row
from benchmarks.run import parse_args
from dispatch.testing import Client, run_dispatcher
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


@pytest.mark.parametrize("ours, peer, verdict", [(125.0, 100.0, "met"), (115.0, 100.0, "NOT met")])
def test_targets_are_printed_met_or_not(ours, peer, verdict):
    row = _row(ours=[ours], aiohttp=[peer])
    assert report.target_status(row) == f">= 1.2x aiohttp: {verdict}"


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


def test_quick_and_section_options():
    args = parse_args(["--quick", "--only", "http,sse"])
    assert (args.repeat, args.sse_clients, args.idle) == (1, [100, 1000], 1000)
    assert args.only == ["http", "sse"]
    assert args.servers[0] == "ours"
    assert parse_args(["--quick", "--sse-clients", "10"]).sse_clients == [10]
    assert parse_args([]).repeat == 3
    with pytest.raises(SystemExit):
        parse_args(["--only", "nonsense"])
