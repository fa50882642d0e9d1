"""Racket's ``tests/web-server/dispatchers/dispatch-servlets-test.rkt`` over real sockets:
Racket's example servlets (``default-web-root/htdocs/servlets/examples``), Python-spelled
in ``tests/racket/fixtures/servlets/examples/``, each served by ``dispatch_servlets.make``
as Racket's ``mkd`` serves it (every URL maps to the one file; the responders re-raise).

Then what Racket's suite leaves as ``XXX test update cache``, and what this port adds:
the servlet directory mapping (only ``.py`` files inside the root, nothing hidden or
private, no file without ``start`` run), loading each file once, the responders, and
``serve_servlet(servlets_root=...)``.

Not ported: configure.rkt (Racket's configuration tool), response.rktd (a v0 servlet:
a file that is a response), the formlets, page and web-cell examples (tested with those
modules), quiz.rkt (an 8-page walk of send/suspend, as add.rkt's) and adjust.rkt (broken
in Racket's own suite).
"""
from __future__ import annotations

import functools
import os
import random
import re
import shutil

import gevent
import gevent.event
import pytest
import requests

import dispatch.dispatch_servlets as dispatch_servlets
import dispatch.lift as lift
import dispatch.sequencer as sequencer
from dispatch.core import next_dispatcher
from dispatch.responders import servlet_error_responder, servlet_loading_responder
from servlets import response_xexpr
from servlets.servlet_env import serve_servlet_dispatcher
from servlets.setup import ServletLoadError, defines_start, make_default_path_to_servlet

EXAMPLES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "servlets",
                        "examples")
URL0 = "/servlets/example.py"


def reraise(url, exc):
    raise exc


def mkd(name: str):
    """Racket's ``mkd``: a dispatcher serving the example ``name`` at every URL."""
    path = os.path.join(EXAMPLES, name)
    _, url_to_servlet = dispatch_servlets.make_cached_url_to_servlet(
        lambda url: (path, ["servlets", "example.py"]), make_default_path_to_servlet())
    return dispatch_servlets.make(url_to_servlet, responders_servlet_loading=reraise,
                                  responders_servlet=reraise)


def simple_xpath(pattern: str, html: str) -> str:
    match = re.search(pattern, html, re.S)
    assert match, f"{pattern!r} not in {html!r}"
    return match.group(1)


def form_action(html: str) -> str:
    return simple_xpath(r'<form action="([^"]+)"', html)


def call(base: str, url: str, **bindings) -> str:
    response = (requests.post(base + url, data=bindings, timeout=5) if bindings
                else requests.get(base + url, timeout=5))
    assert response.status_code == 200, response.text
    return response.text


def test_hello_loading(served):
    base = served(mkd("hello.py"))
    assert simple_xpath(r"<p>(.*?)</p>", call(base, URL0)) == "Hello, Web!"


def test_port(served):
    base = served(mkd("port.py"))
    response = requests.get(base + URL0, timeout=5)
    assert response.status_code == 200 and response.reason == "Okay"
    assert simple_xpath(r"<p>(.*?)</p>", response.text) == "Hello, Web!"


def add_two_numbers(base: str) -> None:
    """Racket's ``test-add-two-numbers``."""
    x, y = random.randrange(500), random.randrange(500)
    r0 = call(base, URL0)
    r1 = call(base, form_action(r0), number=str(x))
    r2 = call(base, form_action(r1), number=str(y))
    assert simple_xpath(r"<p>(.*?)</p>", r2) == f"The answer is {x + y}"


@pytest.mark.parametrize("name", ["add.py", "add_v2.py", "add_ssd.py"])
def test_add_two_numbers(served, name):
    add_two_numbers(served(mkd(name)))


def test_count_state(served):
    base = served(mkd("count.py"))

    def ext(html):
        return re.search(r"This servlet was called (.+) times and (.+) times since loaded on",
                         html).groups()

    assert [ext(call(base, URL0)), ext(call(base, URL0))] == [("1", "1"), ("2", "1")]


def test_dir(served):
    base = served(mkd("dir.py"))
    shown = simple_xpath(r"<em>(.*?)</em>", call(base, URL0))
    assert os.path.realpath(shown) == os.path.realpath(EXAMPLES)


def test_clear(served):
    """clear.rkt: current_servlet_continuation_expiration_handler, send_forward (which
    clears the continuation table), send_finish."""
    base = served(mkd("clear.py"))
    k0 = simple_xpath(r'<a href="([^"]+)"', call(base, URL0))
    k1 = simple_xpath(r'<a href="([^"]+)"', call(base, k0))
    k0_expired = simple_xpath(r"<body>(.*?)</body>", call(base, k0))
    done = simple_xpath(r"<body>(.*?)</body>", call(base, k1))
    k1_expired = simple_xpath(r"<body>(.*?)</body>", call(base, k1))
    assert [k0_expired, done, k1_expired] == ["Expired", "Done.", "Expired"]


def test_stateless(served):
    base = served(mkd("stateless.py"))
    assert call(base, URL0) == f"<p>stateless {URL0}</p>"


# --- a directory of servlets -------------------------------------------------------------

@pytest.fixture
def root(tmp_path):
    """A copy of the examples as a servlets root, with files that must never run."""
    top = tmp_path / "root"
    shutil.copytree(EXAMPLES, top / "examples")
    ran = tmp_path / "ran"
    trap = f"open({str(ran)!r}, 'a').write(__file__ + '\\n')\n\ndef start(request):\n    pass\n"
    (top / ".hidden.py").write_text(trap)
    (top / "_private.py").write_text(trap)
    (top / "__init__.py").write_text(trap)
    (top / "_lib").mkdir()
    (top / "_lib" / "inner.py").write_text(trap)
    (top / ".git").mkdir()
    (top / ".git" / "hook.py").write_text(trap)
    (top / "script.py").write_text(f"open({str(ran)!r}, 'a').write('script')\n")
    (top / "notes.txt").write_text("not a servlet")
    (tmp_path / "outside.py").write_text(trap)
    os.symlink(tmp_path / "outside.py", top / "link_out.py")
    return top


def ran(root) -> str:
    path = root.parent / "ran"
    return path.read_text() if path.exists() else ""


def directory_dispatcher(root, **kwargs):
    flush, url_to_servlet = dispatch_servlets.make_cached_url_to_servlet(
        dispatch_servlets.make_servlet_url_to_path(root), make_default_path_to_servlet())
    not_found = lift.make(lambda req: response_xexpr(("p", "nothing here"), code=404))
    return flush, sequencer.make(dispatch_servlets.make(url_to_servlet, **kwargs), not_found)


def test_servlets_are_found_by_url_path_info_included(served, root):
    _, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    assert "Hello, Web!" in call(base, "/examples/hello.py")
    assert "Hello, Web!" in call(base, "/examples/hello.py/extra/path/info")
    assert "Hello, Web!" in call(base, "/examples/../examples/./hello.py")
    add_two_numbers_at(base, "/examples/add.py")


def add_two_numbers_at(base: str, url: str) -> None:
    r1 = call(base, form_action(call(base, url)), number="20")
    assert "The answer is 42" in call(base, form_action(r1), number="22")


@pytest.mark.parametrize("url", [
    "/.hidden.py", "/_private.py", "/__init__.py", "/_lib/inner.py", "/.git/hook.py",
    "/link_out.py", "/../outside.py", "/examples/%2e%2e/%2e%2e/outside.py", "/notes.txt",
    "/examples/missing.py", "/examples", "/examples/__pycache__/hello.cpython-311.pyc",
])
def test_urls_that_name_no_servlet_decline_and_run_nothing(served, root, url):
    _, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    response = requests.get(base + url, timeout=5)
    assert (response.status_code, response.text) == (404, "<p>nothing here</p>")
    assert ran(root) == ""


def test_a_file_without_start_is_not_run(served, root, caplog):
    _, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    response = requests.get(base + "/script.py", timeout=5)
    assert response.status_code == 500 and "Servlet Error" in response.text
    assert "defines no start" not in response.text  # the details go to the log only
    assert ran(root) == ""
    assert any("defines no start" in r.getMessage() or "defines no start" in str(r.exc_info)
               for r in caplog.records)


def test_source_is_read_as_python_reads_it(served, root):
    (root / "latin.py").write_bytes(
        b"# -*- coding: latin-1 -*-\nfrom servlets import response_xexpr\n"
        b"def start(r): return response_xexpr(('p', 'caf\xe9'))\n")
    (root / "syntax.py").write_text("def start(r):\nopen('x', 'w')\n")
    _, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    assert call(base, "/latin.py") == "<p>caf\u00e9</p>"
    assert requests.get(base + "/syntax.py", timeout=5).status_code == 500


def test_defines_start():
    assert defines_start("def start(req): pass")
    assert defines_start("from app import handler as start")
    assert defines_start("start = make_app()")
    assert not defines_start("def main(): start = 1")
    assert not defines_start("import os\nos.remove('x')")


def test_loading_and_servlet_errors_go_to_the_responders(served, root, caplog):
    (root / "broken.py").write_text("def start(request):\n    pass\n1 / 0\n")
    (root / "version.py").write_text("interface_version = 'v9'\ndef start(r): pass\n")
    _, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    broken = requests.get(base + "/broken.py", timeout=5)
    assert broken.status_code == 500 and broken.reason == "Internal Server Error"
    assert "<title>Servlet Error</title>" in broken.text
    assert "ZeroDivisionError" not in broken.text  # not shown by default
    assert requests.get(base + "/version.py", timeout=5).status_code == 500
    error = requests.get(base + "/examples/error.py", timeout=5)
    assert error.status_code == 500 and "Whoops" not in error.text
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "did not load" in logged and "broken.py" in logged


def test_show_exception_shows_the_message_and_stack_trace(served, root):
    (root / "broken.py").write_text("def start(request):\n    pass\n1 / 0\n")
    show = functools.partial(servlet_error_responder, show_exception=True)
    show_loading = functools.partial(servlet_loading_responder, show_exception=True)
    _, dispatcher = directory_dispatcher(root, responders_servlet=show,
                                         responders_servlet_loading=show_loading)
    base = served(dispatcher)
    broken = requests.get(base + "/broken.py", timeout=5).text
    assert "ZeroDivisionError: division by zero" in broken
    assert "line 3, in file " in broken and "broken.py" in broken
    error = requests.get(base + "/examples/error.py", timeout=5).text
    assert "RuntimeError: error: Whoops" in error and "start at:" in error


def test_custom_responders_get_the_url_and_the_exception(served, root):
    seen = []

    def responder(url, exc):
        seen.append((url, type(exc).__name__))
        return response_xexpr(("p", "sorry"), code=503)

    _, dispatcher = directory_dispatcher(root, responders_servlet=responder,
                                         responders_servlet_loading=responder)
    base = served(dispatcher)
    assert requests.get(base + "/examples/error.py", timeout=5).status_code == 503
    assert requests.get(base + "/script.py", timeout=5).status_code == 503
    assert seen == [(base + "/examples/error.py", "RuntimeError"),
                    (base + "/script.py", "ServletLoadError")]


def test_a_servlet_calling_next_dispatcher_declines(served, root):
    (root / "decline.py").write_text(
        "from dispatch.core import next_dispatcher\n"
        "interface_version = 'stateless'\n"
        "def start(request):\n    next_dispatcher()\n")
    (root / "decline_stateful.py").write_text(
        "from dispatch.core import next_dispatcher\n"
        "def start(request):\n    next_dispatcher()\n")
    _, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    for url in ("/decline.py", "/decline_stateful.py"):
        assert requests.get(base + url, timeout=5).text == "<p>nothing here</p>"
    assert next_dispatcher  # (imported for the files above to name)


def test_flush_reloads_all_or_only_the_urls_given(served, root):
    flush, dispatcher = directory_dispatcher(root)
    base = served(dispatcher)
    (root / "one.py").write_text("from servlets import response_xexpr\n"
                                 "def start(r): return response_xexpr(('p', 'one v1'))\n")
    (root / "two.py").write_text("from servlets import response_xexpr\n"
                                 "def start(r): return response_xexpr(('p', 'two v1'))\n")
    assert call(base, "/one.py") == "<p>one v1</p>" and call(base, "/two.py") == "<p>two v1</p>"
    for name in ("one", "two"):
        (root / f"{name}.py").write_text(
            "from servlets import response_xexpr\n"
            f"def start(r): return response_xexpr(('p', '{name} v2'))\n")
    assert call(base, "/one.py") == "<p>one v1</p>"  # cached
    finalized = []
    flush([base + "/one.py", "/no/such.py"], finalized.append)
    assert [os.path.basename(s.module.__file__) for s in finalized] == ["one.py"]
    assert call(base, "/one.py") == "<p>one v2</p>" and call(base, "/two.py") == "<p>two v1</p>"
    flush()
    assert call(base, "/two.py") == "<p>two v2</p>"
    # module state starts again with a fresh load (count.rkt's "since loaded")
    assert "called 1 times" in call(base, "/examples/count.py")
    assert "called 2 times" in call(base, "/examples/count.py")
    flush()
    assert "called 1 times" in call(base, "/examples/count.py")
    with pytest.raises(TypeError, match="list of URLs"):
        flush("/one.py")


def test_refresh_servlets_url(served, root):
    """Racket's configuration serves /conf/refresh-servlets: flush, then the page of
    gen_servlets_refreshed."""
    import dispatch.filter as filter_
    from dispatch.responders import gen_servlets_refreshed

    page = root.parent / "servlet-refresh.html"
    page.write_text("<p>Fresh copies of Servlets will now be (re)loaded from disk.</p>")
    refreshed = gen_servlets_refreshed(page)
    flush, dispatcher = directory_dispatcher(root)

    def refresh(request):
        flush()
        return refreshed()

    base = served(sequencer.make(filter_.make(r"^/conf/refresh-servlets$", lift.make(refresh)),
                                 dispatcher))
    (root / "v.py").write_text("from servlets import response_xexpr\n"
                               "def start(r): return response_xexpr(('p', 'old'))\n")
    assert call(base, "/v.py") == "<p>old</p>"
    (root / "v.py").write_text("from servlets import response_xexpr\n"
                               "def start(r): return response_xexpr(('p', 'new'))\n")
    response = requests.get(base + "/conf/refresh-servlets", timeout=5)
    assert (response.status_code, response.reason) == (200, "Servlet cache refreshed")
    assert "Fresh copies" in response.text
    assert call(base, "/v.py") == "<p>new</p>"


def test_each_file_is_loaded_once_however_many_requests_wait(served, root, tmp_path):
    """Two first requests at once: one load (Racket's cache table locks its lookups)."""
    import importlib.util
    import sys

    gate_path = tmp_path / "gate.py"
    gate_path.write_text("import gevent.event\n"
                         "started, open_, loads = gevent.event.Event(), gevent.event.Event(), []\n")
    spec = importlib.util.spec_from_file_location("servlet_load_gate", gate_path)
    gate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gate)
    sys.modules["servlet_load_gate"] = gate
    try:
        (root / "slow.py").write_text(
            "import servlet_load_gate as gate\nfrom servlets import response_xexpr\n"
            "gate.loads.append(1)\ngate.started.set()\ngate.open_.wait(10)\n"
            "def start(r): return response_xexpr(('p', 'slow'))\n")
        _, url_to_servlet = dispatch_servlets.make_cached_url_to_servlet(
            dispatch_servlets.make_servlet_url_to_path(root), make_default_path_to_servlet())
        second_entered = gevent.event.Event()
        lookups = []

        def counting(url):
            lookups.append(url)
            if len(lookups) == 2:
                second_entered.set()  # it goes on to the cache's lock without yielding
            return url_to_servlet(url)

        base = served(dispatch_servlets.make(counting))
        first = gevent.spawn(call, base, "/slow.py")
        assert gate.started.wait(5)  # the first request is loading the file
        second = gevent.spawn(call, base, "/slow.py")
        assert second_entered.wait(5)  # the second is waiting for that load
        gate.open_.set()
        assert [first.get(timeout=5), second.get(timeout=5)] == ["<p>slow</p>"] * 2
        assert gate.loads == [1]
    finally:
        del sys.modules["servlet_load_gate"]


def test_bad_arguments(root):
    with pytest.raises(TypeError, match="url_to_servlet"):
        dispatch_servlets.make("servlets/")
    with pytest.raises(TypeError, match="responders_servlet"):
        dispatch_servlets.make(lambda u: None, responders_servlet=None)
    with pytest.raises(TypeError, match="url_to_path"):
        dispatch_servlets.make_cached_url_to_servlet("root", make_default_path_to_servlet())
    with pytest.raises(ValueError, match="not a directory"):
        dispatch_servlets.make_servlet_url_to_path(root / "notes.txt")
    with pytest.raises(ValueError, match="timeouts_default_servlet"):
        make_default_path_to_servlet(timeouts_default_servlet=0)
    path_to_servlet = make_default_path_to_servlet()
    with pytest.raises(ServletLoadError, match="not a servlet file"):
        path_to_servlet(str(root / "_private.py"))
    with pytest.raises(ServletLoadError, match="not a servlet file"):
        path_to_servlet(str(root / "notes.txt"))
    assert ran(root) == ""


# --- serve_servlet's servlets_root ------------------------------------------------------

def test_serve_servlet_serves_servlets_root(served, root, tmp_path):
    def start(req):
        return response_xexpr(("p", "main"))

    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "not-found.html").write_text("<p>The file you were looking for "
                                                      "was not found on this server.</p>")
    base = served(serve_servlet_dispatcher(start, servlets_root=root,
                                           server_root_path=tmp_path))
    assert call(base, "/servlets/standalone.rkt") == "<p>main</p>"
    assert "Hello, Web!" in call(base, "/examples/hello.py")
    add_two_numbers_at(base, "/examples/add.py")
    missing = requests.get(base + "/.hidden.py", timeout=5)
    assert (missing.status_code, missing.reason) == (404, "File not found")
    assert "was not found on this server" in missing.text
    assert ran(root) == ""


def test_serve_servlet_runs_no_file_without_servlets_root(served, root):
    def start(req):
        return response_xexpr(("p", "main"))

    base = served(serve_servlet_dispatcher(start, extra_files_paths=[root]))
    response = requests.get(base + "/examples/hello.py", timeout=5)
    assert response.status_code == 200 and "def start" in response.text  # the file, as text
