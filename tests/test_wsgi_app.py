"""dispatch.wsgi_app: a Flask app and plain PEP 3333 callables mounted as dispatchers,
over real sockets, in a sequencer with a fall-through dispatcher."""
import pytest
import requests

from dispatch import sequencer, wsgi_app
from dispatch.testing import Client, declines
from dispatch.wsgi_app import split_prefix
from servlets import response_full

flask = pytest.importorskip("flask")


def text(body, code=200):
    return response_full(code, None, None, "text/plain", [], [body.encode()])


def fallback(conn, request):
    conn.respond(text("fallback:" + request.path))


def make_flask_app():
    app = flask.Flask("mounted")

    @app.route("/")
    def index():
        return "index"

    @app.route("/where")
    def where():
        env = flask.request.environ
        return flask.jsonify(script_name=env["SCRIPT_NAME"], path_info=env["PATH_INFO"],
                             url=flask.url_for("where"))

    @app.route("/echo", methods=["POST"])
    def echo():
        return flask.request.get_data()

    @app.route("/teapot")
    def teapot():
        flask.abort(418)

    @app.route("/stream")
    def stream():
        def chunks():
            for i in range(3):
                yield f"chunk{i}\n"
        return flask.Response(chunks(), mimetype="text/plain")

    return app


def test_split_prefix_takes_whole_segments():
    assert split_prefix("/blog", "/blog") == ("/blog", "")
    assert split_prefix("/blog/", "/blog") == ("/blog", "/")
    assert split_prefix("/blog/a/b", "/blog") == ("/blog", "/a/b")
    assert split_prefix("/blogger", "/blog") is None
    assert split_prefix("/", "/blog") is None


def test_flask_mounted_at_a_prefix_over_a_socket(served):
    app = make_flask_app()
    base = served(sequencer.make(wsgi_app.make(app, prefix="/blog/"), fallback))
    where = requests.get(base + "/blog/where", timeout=5).json()
    # SCRIPT_NAME carries the prefix, so Flask builds its URLs under it.
    assert where == {"script_name": "/blog", "path_info": "/where", "url": "/blog/where"}
    assert requests.get(base + "/blog/", timeout=5).text == "index"
    assert requests.post(base + "/blog/echo", data=b"x" * 5000, timeout=5).content \
        == b"x" * 5000
    # Outside the prefix the mount declines and the next dispatcher answers.
    assert requests.get(base + "/blogger", timeout=5).text == "fallback:/blogger"
    assert requests.get(base + "/other", timeout=5).text == "fallback:/other"
    # Without decline_on_404, the app's own 404 stands.
    missing = requests.get(base + "/blog/missing", timeout=5)
    assert missing.status_code == 404 and "Not Found" in missing.text


def test_prefix_alone_redirects_as_flask_does(served):
    base = served(wsgi_app.make(make_flask_app(), prefix="/blog"))
    # PATH_INFO is "" for the bare prefix (DispatcherMiddleware's convention); Flask
    # answers with a redirect to the slash form under SCRIPT_NAME.
    reply = requests.get(base + "/blog", allow_redirects=False, timeout=5)
    assert reply.status_code == 308
    assert reply.headers["Location"].endswith("/blog/")


def test_decline_on_404_falls_through_to_the_next_dispatcher(served):
    app = make_flask_app()
    base = served(sequencer.make(wsgi_app.make(app, prefix="/blog", decline_on_404=True),
                                 fallback))
    assert requests.get(base + "/blog/missing", timeout=5).text == "fallback:/blog/missing"
    # The next dispatcher sees the request unchanged (no SCRIPT_NAME split).
    assert requests.get(base + "/blog/where", timeout=5).json()["path_info"] == "/where"
    # Other statuses and streamed bodies go through whole.
    teapot = requests.get(base + "/blog/teapot", timeout=5)
    assert teapot.status_code == 418
    assert requests.get(base + "/blog/stream", timeout=5).text == "chunk0\nchunk1\nchunk2\n"
    # Alone, a declined 404 becomes to_wsgi's plain 404.
    assert declines(wsgi_app.make(app, decline_on_404=True), "/nothing")


def test_decline_on_404_leaves_a_non_404_body_unread_until_served():
    pulled = []
    closed = []

    class Body:
        def __iter__(self):
            for i in range(3):
                pulled.append(i)
                yield b"%d" % i

        def close(self):
            closed.append(True)

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Body()

    dispatcher = wsgi_app.make(app, decline_on_404=True)
    assert not declines(dispatcher, "/")
    assert pulled == []  # the dispatcher knew the status without reading the body
    assert Client(dispatcher).get("/").data == b"012"
    assert closed


def test_decline_on_404_with_a_generator_app_reads_one_chunk_only():
    def generator_app(environ, start_response):
        # start_response is called on the first iteration, as PEP 3333 allows.
        start_response("404 Not Found" if environ["PATH_INFO"] == "/none" else "200 OK",
                       [("Content-Type", "text/plain")])
        yield b"first,"
        yield b"second"

    dispatcher = sequencer.make(wsgi_app.make(generator_app, decline_on_404=True), fallback)
    client = Client(dispatcher)
    assert client.get("/some").data == b"first,second"
    assert client.get("/none").data == b"fallback:/none"


def test_legacy_write_callable_keeps_its_order():
    def app(environ, start_response):
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written,")
        return [b"returned"]

    for decline in (False, True):
        assert Client(wsgi_app.make(app, decline_on_404=decline)).get("/").data \
            == b"written,returned"


def test_an_app_that_never_starts_a_response_is_a_500_not_a_hang():
    def broken(environ, start_response):
        return []

    reply = Client(wsgi_app.make(broken, decline_on_404=True)).get("/")
    assert reply.status_code == 500
