"""Simple single-servlet servers.  Racket: ``serve/servlet`` from
``web-server/servlet-env``.

::

    from gevent import monkey; monkey.patch_all()
    from servlets import response_xexpr, serve_servlet

    def start(req):
        return response_xexpr(("html", ("head", ("title", "Hello world!")),
                                       ("body", ("p", "Hey out there!"))))

    serve_servlet(start)            # http://localhost:8000/servlets/standalone.rkt

It composes, as Racket's does: ``/quit`` (when ``quit``), then ``extra_dispatchers``
(not in Racket: events, WebSockets, any dispatcher on the same port), the servlet for
paths that ``servlet_regexp`` finds, the files of ``extra_files_paths`` then of
``server_root_path``'s ``htdocs``, and ``file_not_found_responder`` for the rest; it
serves them with :func:`dispatch.server.serve`, prints the banner, and waits.
:func:`serve_servlet_dispatcher` builds the same dispatcher without serving it, and
:func:`mount` serves any dispatcher under a URL prefix.
"""
from __future__ import annotations

import logging
import os
import re
import sys
from typing import Any, Callable, Iterable, Optional, Union

import gevent
import gevent.event

import dispatch.dispatch_servlets as dispatch_servlets
import dispatch.files as files
import dispatch.filter as filter_  # Racket: (prefix-in filter: ...)
import dispatch.lift as lift
import dispatch.logresp as logresp
import dispatch.responders as responders
import dispatch.sequencer as sequencer
from dispatch.core import Dispatcher, DispatcherNotApplicable, next_dispatcher
from dispatch.filesystem_map import make_url_to_path
from dispatch.http.response import response_xexpr
from dispatch.safety_limits import SafetyLimits, make_safety_limits
from dispatch.server import read_line, serve, wait_then_stop

from . import stateful
from .banner import print_start_error, server_url
from .one_port import extra_dispatchers as _extra_dispatchers
from .servlet import check_servlet, dispatch_servlet
from .setup import make_default_path_to_servlet

__all__ = ["mount", "serve_servlet", "serve_servlet_dispatcher"]

log = logging.getLogger("servlets.serve_servlet")

PathLike = Union[str, "os.PathLike[str]"]
FilesPath = Union[PathLike, tuple]

_INDICES = ("index.html", "index.htm")

_NOT_FOUND_PAGE = (
    "html", ("head", ("title", "Not Found")),
    ("body", ("h1", "Not Found"), ("p", "Nothing is served at this address.")))


def mount(prefix: str, inner: Dispatcher) -> Dispatcher:
    """Serve ``inner`` under the URL path ``prefix``: for ``/static/css/a.css`` under
    ``mount("/static", ...)``, ``inner`` sees the path ``/css/a.css`` (the prefix moves
    to ``SCRIPT_NAME``, as WSGI mounting does; ``request.url`` stays whole).  Paths
    outside the prefix (``/staticx``) decline.

    ``mount("/static", files.make(make_url_to_path("assets")))`` serves ``assets/``
    at ``/static/`` without a hand-written ``url_to_path``."""
    prefix = "/" + prefix.strip("/")
    if prefix == "/":
        return inner
    # PATH_INFO holds the path's bytes as latin-1 (PEP 3333): compare in that form.
    raw_prefix = prefix.encode("utf-8").decode("latin-1")

    def mounted(conn, request):
        environ = request.environ
        path = environ.get("PATH_INFO", "")
        if path != raw_prefix and not path.startswith(raw_prefix + "/"):
            next_dispatcher()
        inner_environ = dict(environ)
        inner_environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + raw_prefix
        inner_environ["PATH_INFO"] = path[len(raw_prefix):] or "/"
        return inner(conn, type(request)(inner_environ))

    return mounted


def _files_dispatcher(entry: FilesPath) -> Dispatcher:
    if isinstance(entry, tuple):
        prefix, directory = entry
        return mount(prefix, _files_dispatcher(directory))
    if not os.path.isdir(entry):
        raise ValueError(f"extra_files_paths: {os.fspath(entry)!r} is not a directory")
    return files.make(make_url_to_path(entry), indices=_INDICES)


def _file_not_found_responder(server_root_path: Optional[PathLike]) -> Callable:
    if server_root_path is not None:
        candidate = os.path.join(server_root_path, "conf", "not-found.html")
        if os.path.isfile(candidate):  # Racket's default
            return responders.gen_file_not_found_responder(candidate)

    def not_found(request):
        return response_xexpr(_NOT_FOUND_PAGE, code=404)

    return not_found


def _quit_server(done: gevent.event.Event) -> Dispatcher:
    def quit_page(request):
        done.set()  # the server stops once this response is sent (a graceful stop)
        return response_xexpr(("html", ("head", ("title", "Server Stopped")),
                               ("body", ("h1", "Server Stopped"),
                                ("p", "The Web server has stopped."))))

    return filter_.make(r"^/quit$", lift.make(quit_page))


def _with_responder(inner: Dispatcher, responder: Callable) -> Dispatcher:
    """Racket's ``#:servlet-responder``: a servlet's exception becomes
    ``responder(url, exception)``'s response."""
    from werkzeug.exceptions import HTTPException

    def servlet(conn, request):
        try:
            return inner(conn, request)
        except (DispatcherNotApplicable, HTTPException):
            raise
        except Exception as exc:
            if conn.answered:
                raise
            log.exception("servlet failed on %s %s", request.method, request.path)
            conn.respond(responder(request.url, exc))

    return servlet


def serve_servlet_dispatcher(
        start: Callable, *, servlet_path: str = "/servlets/standalone.rkt",
        servlet_regexp: Union[str, re.Pattern, None] = None,
        stateless: bool = False, manager: Any = None,
        extra_dispatchers: Iterable[Any] = (), route: Optional[str] = None,
        server_root_path: Optional[PathLike] = None,
        extra_files_paths: Optional[Iterable[FilesPath]] = None,
        file_not_found_responder: Optional[Callable] = None,
        servlet_responder: Optional[Callable] = None,
        log_file: Any = None, log_format: Any = "apache-default",
        quit_event: Optional[gevent.event.Event] = None,
        servlets_root: Optional[PathLike] = None,
        servlet_loading_responder: Optional[Callable] = None) -> Dispatcher:
    """The dispatcher :func:`serve_servlet` serves (same keywords); ``quit_event``, when
    given, is set by a request for ``/quit``."""
    check_servlet(start, "serve_servlet")
    extras = _extra_dispatchers(extra_dispatchers)
    if servlet_responder is None:
        servlet_responder = responders.servlet_error_responder  # Racket's default
    if servlet_regexp is None:
        servlet_regexp = "^" + re.escape(servlet_path) + "$"
    if route is not None and stateless:
        raise ValueError("serve_servlet: route= is for stateful servlets (stateless=False)")
    if stateless:
        servlet = dispatch_servlet(start)
        if servlet_responder is not None:
            servlet = _with_responder(servlet, servlet_responder)
    else:
        servlet = stateful.make(start, manager=manager, servlet_responder=servlet_responder,
                                route=route)
    chain: list = []
    if quit_event is not None:
        chain.append(_quit_server(quit_event))
    chain.extend(extras)
    chain.append(filter_.make(servlet_regexp, servlet))
    if servlets_root is not None:  # Racket's servlets:make over servlets-root
        _, url_to_servlet = dispatch_servlets.make_cached_url_to_servlet(
            dispatch_servlets.make_servlet_url_to_path(servlets_root),
            make_default_path_to_servlet())
        chain.append(dispatch_servlets.make(
            url_to_servlet, responders_servlet=servlet_responder,
            responders_servlet_loading=(servlet_loading_responder
                                        or responders.servlet_loading_responder)))
    htdocs = os.path.join(server_root_path, "htdocs") if server_root_path is not None else None
    if extra_files_paths is None:
        extra_files_paths = [htdocs] if htdocs and os.path.isdir(htdocs) else []
    chain.extend(_files_dispatcher(entry) for entry in extra_files_paths)
    if htdocs is not None and os.path.isdir(htdocs):
        chain.append(_files_dispatcher(htdocs))
    if file_not_found_responder is None:
        file_not_found_responder = _file_not_found_responder(server_root_path)
    chain.append(lift.make(file_not_found_responder))
    core = sequencer.make(*chain)
    if log_file is not None:
        core = logresp.make(core, format=log_format, log_path=log_file)
    return core


def _answering_url(server_url: str, servlet_path: str,
                   servlet_regexp: Union[str, re.Pattern, None]) -> str:
    """The banner's URL: the servlet's when ``servlet_regexp`` takes ``servlet_path``."""
    if servlet_regexp is None or filter_.path_searcher(servlet_regexp)(servlet_path):
        return server_url + servlet_path
    return server_url


def _stdin_is_interactive() -> bool:
    """Whether standard input is a terminal this process reads in the foreground: the
    only case where "press enter" is asked for without being told (a closed or
    redirected input, as under nohup, systemd or a pipe, never stops the server)."""
    try:
        fd = sys.stdin.fileno()
        return os.isatty(fd) and os.tcgetpgrp(fd) == os.getpgrp()
    except (AttributeError, OSError, ValueError):
        return False


def serve_servlet(
        start: Callable, *, command_line: bool = False,
        launch_browser: Optional[bool] = None, quit: bool = False,  # noqa: A002
        banner: Optional[bool] = None, listen_ip: Optional[str] = "127.0.0.1",
        port: int = 8000, max_waiting: int = 511,
        safety_limits: Optional[SafetyLimits] = None,
        servlet_path: str = "/servlets/standalone.rkt",
        servlet_regexp: Union[str, re.Pattern, None] = None,
        stateless: bool = False, manager: Any = None,
        extra_dispatchers: Iterable[Any] = (), route: Optional[str] = None,
        stop_on_enter: Optional[bool] = None,
        server_root_path: Optional[PathLike] = None,
        extra_files_paths: Optional[Iterable[FilesPath]] = None,
        servlets_root: Optional[PathLike] = None,
        servlet_current_directory: Optional[PathLike] = None,
        file_not_found_responder: Optional[Callable] = None,
        servlet_responder: Optional[Callable] = None,
        servlet_loading_responder: Optional[Callable] = None,
        ssl: bool = False, ssl_cert: Optional[PathLike] = None,
        ssl_key: Optional[PathLike] = None,
        log_file: Any = None, log_format: Any = "apache-default",
        stop_timeout: float = 2.0, reload: bool = False, **server_options: Any) -> None:
    """Serve ``start(request)`` and wait until the server is stopped.  Racket:
    ``serve/servlet``; the keywords are its own, Python-spelled.

    * ``command_line``: the defaults of ``launch_browser`` and ``banner`` are ``not
      command_line``.  ``launch_browser`` opens ``servlet_path`` in a browser;
      ``banner`` prints ``Your Web application is running at <url>.`` (with the port
      actually bound: ``port=0`` takes a free one), ``<url>`` naming ``servlet_path``
      whenever the servlet answers it (Racket names it only with a browser).
    * ``quit=True``: a request for ``/quit`` stops the server.  Off by default (Racket:
      ``not command_line``): any web page could stop it with ``<img src=/quit>``.
    * ``stop_on_enter``: a line or the end of standard input stops the server.  By
      default only when standard input is a terminal read in the foreground (and not
      ``command_line``): a closed or redirected input (nohup, systemd, ``< /dev/null``)
      never stops it.  Not in Racket.  SIGINT and SIGTERM always stop it.  Stopping is
      graceful: requests in flight get up to ``stop_timeout`` seconds.
    * ``extra_dispatchers``: dispatchers tried before the servlet, on the same port
      (not in Racket): ``ws_dispatch_rules(...)``, a ``ws_service_mapper(...)``,
      ``(r"^/events$", make_sse())``, any dispatcher (see :mod:`servlets.one_port`).
      ``start`` itself must be a servlet: a dispatcher there (a callable requiring two
      positional arguments) is a ``TypeError`` at the call.
    * ``route``: the process's name for sticky routing of stateful servlets (see
      :func:`servlets.stateful.make`).
    * ``servlet_path``/``servlet_regexp``: ``start`` answers the paths in which
      ``servlet_regexp`` is found (by default, ``servlet_path`` alone); ``""`` takes
      every path (see ``serve_dispatch``).
    * ``stateless=False`` serves ``start`` through ``servlets.stateful.make(start,
      manager=manager)``; ``stateless=True`` as a plain servlet.
    * ``extra_files_paths``: directories whose files are served, first to last; an
      entry ``("/static", "assets")`` serves ``assets/`` under ``/static/``.  Then
      ``server_root_path``'s ``htdocs`` (and its ``conf/not-found.html`` for 404s);
      ``file_not_found_responder(request)`` answers what nothing else did.
    * ``servlets_root``: a directory of servlet modules, each served at its URL path
      (``/add.py`` runs ``add.py``'s ``start``; see :mod:`dispatch.dispatch_servlets`:
      only ``.py`` files defining ``start``, nothing hidden or private).  Racket loads
      the ``.rkt`` files of ``server_root_path``'s ``htdocs`` by default; here no file
      runs unless ``servlets_root`` is given.  ``servlet_loading_responder(url,
      exception)`` answers one that fails to load.
    * ``servlet_current_directory``: the process changes into it (by default
      ``servlets_root``) when either is given.
    * ``servlet_responder(url, exception)``: the response for a servlet's exception
      (by default ``dispatch.responders.servlet_error_responder``: a 500 page without
      the exception, which is logged).
    * ``ssl``: serve https with ``ssl_cert`` and ``ssl_key`` (by default
      ``server-cert.pem`` and ``private-key.pem`` in ``server_root_path``).
    * ``log_file`` (a path or a stream) and ``log_format`` (``"apache-default"``,
      ``"paren"``, ``"extended"`` or a procedure): one line per request.
    * ``safety_limits`` (or ``max_waiting`` alone) and ``server_options`` go to
      :func:`dispatch.server.serve`.
    * ``reload=True`` (not Racket's), while developing: the process restarts when a
      source file changes (:mod:`dispatch.reload`); the browser opens at the first start.
    """
    if launch_browser is None:
        launch_browser = not command_line
    if stop_on_enter is None:
        stop_on_enter = not command_line and _stdin_is_interactive()
    if banner is None:
        banner = not command_line
    if reload:  # this process supervises from here; the restarted ones go on
        from dispatch import reload as reloading

        port = reloading.supervise(port, listen_ip)
        launch_browser = launch_browser and reloading.run_number() == 1
    if safety_limits is None:
        safety_limits = make_safety_limits(max_waiting=max_waiting)
    if ssl:
        root = server_root_path if server_root_path is not None else os.getcwd()
        ssl_cert = ssl_cert or os.path.join(root, "server-cert.pem")
        ssl_key = ssl_key or os.path.join(root, "private-key.pem")
    if ssl_cert and ssl_key:
        server_options.setdefault("certfile", os.fspath(ssl_cert))
        server_options.setdefault("keyfile", os.fspath(ssl_key))
    working_directory = servlet_current_directory or servlets_root
    if working_directory is not None:
        os.chdir(working_directory)

    done = gevent.event.Event()
    dispatcher = serve_servlet_dispatcher(
        start, servlet_path=servlet_path, servlet_regexp=servlet_regexp,
        stateless=stateless, manager=manager, extra_dispatchers=extra_dispatchers,
        route=route, server_root_path=server_root_path,
        extra_files_paths=extra_files_paths,
        file_not_found_responder=file_not_found_responder,
        servlet_responder=servlet_responder, log_file=log_file, log_format=log_format,
        quit_event=done if quit else None, servlets_root=servlets_root,
        servlet_loading_responder=servlet_loading_responder)
    try:
        stop = serve(dispatcher, port=port, listen_ip=listen_ip,
                     safety_limits=safety_limits, reload=reload, **server_options)
    except OSError as error:
        if banner:
            print_start_error(error, port)
        raise

    root = server_url(stop.port, bool(ssl_cert and ssl_key))
    launch_url = root + servlet_path
    if launch_browser:
        import webbrowser

        gevent.get_hub().threadpool.spawn(webbrowser.open, launch_url)
    if banner:
        print(f"Your Web application is running at "
              f"{_answering_url(root, servlet_path, servlet_regexp)}.")
        if stop_on_enter or quit:
            print(" or ".join((["Press enter"] if stop_on_enter else [])
                              + (["visit /quit"] if quit else [])) + " to stop it.")
        print("Stop this program at any time to terminate the Web Server.")
        sys.stdout.flush()

    if stop_on_enter:
        def wait_for_enter():
            read_line()
            done.set()

        gevent.spawn(wait_for_enter)
    try:
        wait_then_stop(stop, done, stop_timeout)
    finally:
        if banner:
            print("\nWeb Server stopped.", flush=True)
