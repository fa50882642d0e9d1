"""Stateful servlets on greenlets.  Racket: ``make-v2.servlet`` (``web-server/servlet/setup``)
with ``dispatch/servlet``'s stateful path (``web-server/servlet-dispatch``).

``make(start, manager=None)`` returns a dispatcher.  A request whose path ends in a
continuation marker of this servlet (``;k=<instance>.<k>.<salt>``) resumes that
continuation; any other request starts a new instance: ``start(request)`` runs in a
greenlet of its own and may suspend (:mod:`servlets.web`: ``send_suspend`` and friends).
The request's greenlet waits for the servlet's next response and answers with it.

Python has no re-entrant continuations, so (see ``docs/notes/stateful.rst``):

* a URL made by ``send_suspend`` (the rest of the function) resumes its greenlet once;
  a second use answers with the expiration handler's page;
* a URL made by ``embed_url(handler)`` (``send_suspend_dispatch``) runs
  ``handler(request)`` in a new greenlet every time it is used.  A response it returns
  is the answer (``send_suspend_dispatch`` in tail position, Racket's idiom); any other
  value is returned, once, from the ``send_suspend_dispatch`` call that made the page;
* a URL made by ``redirect_get`` used again with GET (a reload) renders again the page
  its first use led to.

Web cells (:mod:`servlets.web_cells`) follow the continuations: each stored
continuation keeps the frame it was made in and a use of it starts from that frame.
What a servlet returns that is not a response goes through
:func:`servlets.servlet_structs.any_to_response`.

The marker sits in the path (Racket also puts ``;((k . ...))`` there) because a GET
form drops its action's query string.  Its parts are 128 random bits each (instance and
salt): continuation URLs cannot be guessed.
"""
from __future__ import annotations

import contextvars
import logging
import re
from io import BytesIO
from typing import Any, Callable, NoReturn, Optional
from urllib.parse import quote

from gevent import Greenlet, GreenletExit, getcurrent
from gevent.event import AsyncResult
from werkzeug.datastructures import EnvironHeaders
from werkzeug.exceptions import HTTPException

from dispatch.connection import rewind_body
from dispatch.core import Dispatcher, DispatcherNotApplicable, next_dispatcher
from dispatch.handle import HANDLER_KEY
from dispatch.http.request import Request
from dispatch.http.response import exception_response, response_xexpr

from . import web_cells
from .managers import make_threshold_lru_manager
from .managers.manager import ExpirationHandler, Manager, NoContinuation, ServletManagerError
from .servlet import check_servlet
from .servlet_structs import any_to_response

__all__ = [
    "make", "default_expiration_handler", "current_servlet_continuation_expiration_handler",
    "is_continuation_url", "strip_continuation_marker", "DEFAULT_MEMORY_THRESHOLD",
    "DEFAULT_MAX_INSTANCES",
]

log = logging.getLogger("servlets.stateful")

#: the default manager's memory threshold: 128 MiB of resident memory (Racket: 64 MiB of
#: its own heap; a Python process starts with more).
DEFAULT_MEMORY_THRESHOLD = 128 * 1024 * 1024
#: and its bound on instances (not in Racket): a flood of new sessions cannot outgrow it
#: while the memory check takes its two minutes (about 14 KiB each: 700 MiB at most).
DEFAULT_MAX_INSTANCES = 50_000

# ;k=<instance>.<k-id>.<salt>, at the end of the path's last segment
_K_MARK = re.compile(r";k=([^/;]*)$")
_K_PARTS = re.compile(r"([A-Za-z0-9_-]{22})\.([0-9]{1,18})\.([A-Za-z0-9_-]{22})")

#: Racket: ``current-servlet-continuation-expiration-handler``: set it (``.set(handler)``)
#: in a servlet before ``send_suspend`` to give the continuations stored afterwards their
#: own expiration handler.
current_servlet_continuation_expiration_handler: contextvars.ContextVar[ExpirationHandler] = \
    contextvars.ContextVar("current_servlet_continuation_expiration_handler", default=None)


def default_expiration_handler(request: Request):
    """Racket's default: the "Page Has Expired." page of ``dispatch/servlet``, answered
    ``410 Gone`` (Racket: ``200``) so that logs, proxies and scripts see that nothing was
    done; browsers show the page all the same.  ``Cache-Control: no-store``: never kept
    for the URL."""
    return response_xexpr(
        ("html", ("head", ("title", "Page Has Expired.")),
         ("body", ("p", "Sorry, this page has expired. Please go back."))),
        code=410, headers=[("Cache-Control", "no-store")])


def _server_error():
    return response_xexpr(
        ("html", ("head", ("title", "Servlet Error")),
         ("body", ("p", "Internal Server Error"))), code=500)


def _as_response(value, what: str, request: Optional[Request]):
    """``value`` when it is a response (the common case: one check), else what
    ``any_to_response`` makes of it, else a logged 500."""
    if callable(value):
        return value
    response = any_to_response(value)
    if response is None:
        log.error("%s returned %r, not a response, on %s", what, value,
                  request.path if request is not None else "?")
        return _server_error()
    return response


def is_continuation_url(url: Any) -> Optional[tuple[str, int, str]]:
    """``(instance_id, continuation_id, salt)`` when ``url`` (a URL or its path, a
    string or a ``urllib.parse`` split result) ends in a continuation marker of this
    module, else ``None``.  Racket: ``continuation-url?``, which answers the instance
    id, continuation id and nonce, or ``#f``.  A damaged marker is ``None`` here;
    :func:`strip_continuation_marker` still removes it."""
    path = url if isinstance(url, str) else getattr(url, "path", None)
    if not isinstance(path, str):
        raise TypeError(f"is_continuation_url: expected a URL string or split URL, "
                        f"given {type(url).__name__} {url!r}")
    path = path.split("?", 1)[0].split("#", 1)[0]
    marker = _K_MARK.search(path)
    parts = _K_PARTS.fullmatch(marker.group(1)) if marker is not None else None
    if parts is None:
        return None
    return parts.group(1), int(parts.group(2)), parts.group(3)


def strip_continuation_marker(path: str) -> str:
    """``path`` without its continuation marker: what a servlet's URL regexp should be
    matched against (Racket matches the path without its ``;`` parameters)."""
    return _K_MARK.sub("", path)


class _Turn:
    """One request the instance answers: the request's greenlet waits on ``reply``."""

    __slots__ = ("request", "reply")

    def __init__(self, request: Request) -> None:
        self.request = request
        self.reply = AsyncResult()

    def answer(self, response) -> None:
        if not self.reply.ready():
            self.reply.set(response)

    def fail(self, exc: Exception) -> None:
        """The request's greenlet raises ``exc`` (the WSGI layer answers a plain 500)."""
        if not self.reply.ready():
            self.reply.set_exception(exc)


class _Finished(BaseException):
    """Ends a servlet greenlet that has answered and can never be resumed."""


class _SendBack(BaseException):
    """Racket's abort to the servlet prompt: ``send_back``."""

    def __init__(self, response) -> None:
        self.response = response


class _Instance:
    """The runtime side of one servlet instance: its greenlets."""

    __slots__ = ("id", "manager", "greenlets", "dead", "responder", "__weakref__")

    def __init__(self, manager: Manager, responder: Optional[Callable] = None) -> None:
        self.manager = manager
        #: Racket's #:servlet-responder: (url, exception) -> the response to an error
        self.responder = responder
        self.greenlets: set[ServletGreenlet] = set()
        self.dead = False
        self.id = manager.create_instance(self.expire)

    def expire(self) -> None:
        """The manager dropped the instance: free its suspended greenlets."""
        self.dead = True
        for g in list(self.greenlets):
            if g.suspended:
                g.kill(block=False)

    def store(self, k, base: str) -> str:
        """Store ``k`` with the manager; return its continuation URL."""
        eh = current_servlet_continuation_expiration_handler.get()
        k.expiration_handler = eh or self.manager.instance_expiration_handler
        k_id, salt = self.manager.continuation_store(self.id, k, eh)
        return f"{base};k={self.id}.{k_id}.{salt}"


class ServletGreenlet(Greenlet):
    """A greenlet running servlet code for an instance, on behalf of ``turn``."""

    def __init__(self, instance: _Instance, fn: Callable, turn: _Turn,
                 context: Optional[contextvars.Context] = None) -> None:
        super().__init__()
        self.instance = instance
        self.fn = fn
        self.turn: Optional[_Turn] = turn
        self.context = context
        self.suspended = False
        self.holds = 0          # live continuations that can resume this greenlet
        self.replay_for: Optional[_Resume] = None
        instance.greenlets.add(self)

    def base_url(self) -> str:
        """The URL continuations are made from: the current request's path without its
        marker.  Its query is left out (Racket keeps it): a later request to the
        continuation would otherwise see the old request's bindings again."""
        request = self.turn.request  # type: ignore[union-attr]  # set while it runs
        path = _K_MARK.sub("", request.script_root + request.path)
        return quote(path, safe="/:@!$&'()*+,;=")

    def _run(self) -> None:
        try:
            result = self._outcome()
        except BaseException as exc:
            # The error handling failed too (an expiration handler, even the 500 page):
            # the waiting request raises instead, and the WSGI layer answers its own
            # plain 500.  Building another page here could fail the same way, and the
            # request would then wait for ever.
            log.exception("servlet's error handling failed")
            self._fail(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
            result = None
        finally:
            instance = self.instance
            instance.greenlets.discard(self)
            if not instance.greenlets and not instance.dead:
                instance.manager.forget_unused(instance.id)
            self.fn = self.context = None  # type: ignore[assignment]  # let them go
        if result is not _DETACHED:
            self._answer(result)

    def _outcome(self):
        request = self.turn.request
        try:
            if self.context is not None:
                result = self.context.run(self.fn, request)
            else:
                result = self.fn(request)
            if result is not _DETACHED and not callable(result):
                result = _as_response(result, "servlet", request)
            return result
        except _SendBack as sent:
            return _as_response(sent.response, "send_back", request)
        except DispatcherNotApplicable:
            # e.g. dispatch_rules with no else_: another dispatcher may take the request
            return _DECLINED
        except (_Finished, GreenletExit):
            # killed (its instance or continuation expired) or nothing left to resume it
            if self.turn is None:
                return None
            handler = self.instance.manager.instance_expiration_handler
            return _as_response((handler or default_expiration_handler)(self.turn.request),
                                "the expiration handler", self.turn.request)
        except ServletManagerError as exc:
            # no instance any more (evicted, or the none manager): the expiration page
            if self.turn is None:
                return None
            handler = exc.expiration_handler or default_expiration_handler
            return _as_response(handler(self.turn.request), "the expiration handler",
                                self.turn.request)
        except HTTPException as exc:
            return exception_response(exc)
        except Exception as exc:
            log.exception("servlet failed on %s %s", request.method, request.path)
            if self.instance.responder is not None:
                try:
                    return _as_response(self.instance.responder(request.url, exc),
                                        "the servlet responder", request)
                except Exception:
                    log.exception("the servlet responder failed too")
            return _server_error()

    def _take_turn(self) -> Optional[_Turn]:
        """The turn being answered now; nothing replays into it after this."""
        turn, self.turn = self.turn, None
        self.replay_for = None
        return turn

    def _fail(self, exc: Exception) -> None:
        turn = self._take_turn()
        if turn is not None:
            turn.fail(exc)

    def _answer(self, response) -> None:
        turn = self._take_turn()
        if turn is not None and response is not None:
            turn.answer(response)

    def suspend(self, response, event: AsyncResult, replay: Optional[Callable] = None):
        """Answer the current turn with ``response``, then wait to be resumed."""
        if self.replay_for is not None:
            self.replay_for.replay = replay
            self.replay_for = None
        if not callable(response):
            response = _as_response(response, "the page's response generator",
                                    self.turn.request if self.turn else None)
        self._answer(response)
        if self.holds <= 0 or self.instance.dead:
            raise _Finished()
        self.suspended = True
        try:
            return event.get()
        finally:
            self.suspended = False

    def resume(self, event: AsyncResult, value, turn: _Turn) -> None:
        self.turn = turn
        self.suspended = False
        event.set(value)


_DETACHED = object()  # a handler's greenlet handed its turn to the page's greenlet
_DECLINED = object()  # the servlet called next_dispatcher: the next dispatcher tries


def _hold(g: ServletGreenlet) -> None:
    g.holds += 1


def _unhold(g: ServletGreenlet) -> None:
    g.holds -= 1
    if g.holds <= 0 and g.suspended:
        g.kill(block=False)


def _expired(k, request: Request) -> NoReturn:
    raise NoContinuation("continuation already used", k.expiration_handler)


class _Resume:
    """The rest of a function after ``send_suspend``: resumes its greenlet once."""

    __slots__ = ("greenlet", "event", "expiration_handler", "redirect", "replay")

    def __init__(self, g: ServletGreenlet, redirect: bool = False) -> None:
        self.greenlet: Optional[ServletGreenlet] = g
        self.event = AsyncResult()
        self.expiration_handler: ExpirationHandler = None
        self.redirect = redirect       # made by redirect_get: a reload may replay
        self.replay: Optional[Callable] = None
        _hold(g)

    def invoke(self, turn: _Turn) -> None:
        g = self.greenlet
        if g is None or not g.suspended:
            if self.replay is not None and turn.request.method in ("GET", "HEAD"):
                instance = self.replay.instance  # type: ignore[attr-defined]
                if not instance.dead:
                    replay = self.replay
                    ServletGreenlet(instance, lambda request: replay(), turn).start()
                    return
            _expired(self, turn.request)
        self.greenlet = None
        if self.redirect:
            g.replay_for = self
        g.resume(self.event, turn.request, turn)
        _unhold(g)

    def release(self) -> None:
        g, self.greenlet = self.greenlet, None
        self.replay = None
        if g is not None:
            _unhold(g)


class _Page:
    """A page made by ``send_suspend_dispatch``: its greenlet waits for a handler's value."""

    __slots__ = ("greenlet", "instance", "event", "context", "refs")

    def __init__(self, g: ServletGreenlet) -> None:
        self.greenlet: Optional[ServletGreenlet] = g
        self.instance = g.instance
        self.event = AsyncResult()
        self.context = contextvars.copy_context()
        self.refs = 0
        _hold(g)

    def drop(self) -> None:
        g, self.greenlet = self.greenlet, None
        if g is not None:
            _unhold(g)

    def deliver(self, value) -> bool:
        """Resume the page's greenlet with ``value``; False when it cannot be."""
        g = self.greenlet
        if g is None or not g.suspended:
            return False
        current = getcurrent()
        self.greenlet = None
        # the handler's frame goes on with the value (Racket: the handler runs in the
        # continuation of send/suspend/dispatch, and its web cells stay shadowed there)
        g.resume(self.event, (value, web_cells.capture()), current.turn)
        current.turn = None
        _unhold(g)
        return True


class _Handler:
    """``embed_url(handler)``: runs ``handler(request)`` in a new greenlet at each use."""

    __slots__ = ("handler", "page", "expiration_handler", "frame")

    def __init__(self, handler: Callable, page: _Page) -> None:
        self.handler: Optional[Callable] = handler
        self.page: Optional[_Page] = page
        self.expiration_handler: ExpirationHandler = None
        self.frame = web_cells.capture()  # each use starts from the page's web cells
        page.refs += 1

    def invoke(self, turn: _Turn) -> None:
        handler, page = self.handler, self.page
        if handler is None or page is None:
            _expired(self, turn.request)
        instance = page.instance
        if instance.dead:
            _expired(self, turn.request)
        eh = self.expiration_handler
        frame = self.frame

        def run(request):
            web_cells.restore(frame)
            result = handler(request)
            if callable(result):
                return result
            if page.deliver(result):
                return _DETACHED
            # the rest after send_suspend_dispatch has run already: it is one-shot
            raise NoContinuation("page already used", eh)

        ServletGreenlet(instance, run, turn, page.context.copy()).start()

    def release(self) -> None:
        page, self.page = self.page, None
        self.handler = None
        if page is not None:
            page.refs -= 1
            if page.refs <= 0:
                page.drop()


# -- what servlets.web calls ---------------------------------------------------------

def current_servlet_greenlet(who: str) -> ServletGreenlet:
    g = getcurrent()
    if not isinstance(g, ServletGreenlet):
        raise RuntimeError(f"{who}: not called from a stateful servlet "
                           "(servlets.stateful.make)")
    return g


def _replay(g: ServletGreenlet, response_generator: Callable, argument) -> Optional[Callable]:
    """How to render this page again, for the redirect_get continuation that led here
    (only the first page after such a continuation needs it)."""
    if g.replay_for is None:
        return None
    frame = web_cells.capture()

    def replay():
        web_cells.restore(frame)
        return response_generator(argument)
    replay.instance = g.instance  # type: ignore[attr-defined]
    return replay


def send_suspend(response_generator: Callable[[str], Any], redirect: bool = False) -> Request:
    g = current_servlet_greenlet("send_suspend")
    k = _Resume(g, redirect)
    try:
        k_url = g.instance.store(k, g.base_url())
    except BaseException:
        k.release()
        raise
    try:
        response = response_generator(k_url)
    except BaseException:
        k.release()
        raise
    return g.suspend(response, k.event, _replay(g, response_generator, k_url))


def send_suspend_dispatch(response_generator: Callable[[Callable[[Callable], str]], Any]):
    g = current_servlet_greenlet("send_suspend_dispatch")
    page = _Page(g)
    instance = g.instance
    base = g.base_url()

    def embed_url(handler: Callable[[Request], Any]) -> str:
        k = _Handler(handler, page)
        try:
            return instance.store(k, base)
        except BaseException:
            k.release()
            raise

    try:
        response = response_generator(embed_url)
    except BaseException:
        page.drop()
        raise
    if page.refs == 0:  # no handler embedded: nothing can resume this greenlet
        page.drop()
    value, frame = g.suspend(response, page.event, _replay(g, response_generator, embed_url))
    web_cells.restore(frame)
    return value


def send_back(response) -> None:
    current_servlet_greenlet("send_back")
    raise _SendBack(response)


def clear_continuation_table() -> None:
    g = current_servlet_greenlet("clear_continuation_table")
    g.instance.manager.clear_continuations(g.instance.id)


def adjust_timeout(seconds: float) -> None:
    g = current_servlet_greenlet("adjust_timeout")
    g.instance.manager.adjust_timeout(g.instance.id, seconds)


def _detach(request: Request) -> None:
    """Let a request that suspended code may keep outlive its connection cheaply.

    Its environ refers to the server's connection handler and input stream; a
    suspended session would keep them (and their buffers) alive.  The body is read
    first, as far as the servlet has not, so that ``request.form`` still works later.
    The server's own environ dict is not touched: the request gets a trimmed copy."""
    environ = request.environ
    if HANDLER_KEY not in environ and "wsgi.input" not in environ:
        return
    try:
        request.get_data(cache=True, parse_form_data=True)
        request.files  # noqa: B018 (parsed now, while the stream is there)
    except Exception:  # too large or cut short: the servlet sees what was read
        pass
    request.__dict__.pop("stream", None)
    kept = {k: v for k, v in environ.items()
            if k != HANDLER_KEY and k != "wsgi.input" and k != "werkzeug.request"}
    kept["wsgi.input"] = BytesIO(b"")
    request.environ = kept
    for name, value in list(request.__dict__.items()):
        if getattr(value, "environ", None) is environ:  # request.headers and the like
            if isinstance(value, EnvironHeaders):
                request.__dict__[name] = EnvironHeaders(kept)
            else:
                del request.__dict__[name]


def _with_cookie(app, cookie: str):
    """``app`` (any WSGI application) with one more ``Set-Cookie`` header."""
    def with_cookie(environ, start_response):
        def start(status, headers, exc_info=None):
            return start_response(status, list(headers) + [("Set-Cookie", cookie)], exc_info)
        return app(environ, start)
    return with_cookie


# -- the dispatcher ------------------------------------------------------------------

def make(start: Callable[[Request], Any], manager: Optional[Manager] = None, *,
         route: Optional[str] = None, route_cookie: str = "route",
         servlet_responder: Optional[Callable[[str, Exception], Any]] = None) -> Dispatcher:
    """A dispatcher running ``start`` as a stateful servlet with ``manager``'s
    continuations (default: ``make_threshold_lru_manager(None, 128 MiB,
    max_instances=50_000)``).

    ``route`` (not in Racket) names this process for sticky routing across several:
    a response to a browser whose ``route_cookie`` cookie differs sets it to ``route``,
    so that a proxy can send the browser's next requests here (nginx: ``map
    $cookie_route $backend``).  ``servlet_responder(url, exception)`` answers a servlet
    that raises (Racket's ``#:servlet-responder``; default: a plain 500 page)."""
    check_servlet(start, "servlets.stateful.make")
    if manager is None:
        manager = make_threshold_lru_manager(None, DEFAULT_MEMORY_THRESHOLD,
                                             max_instances=DEFAULT_MAX_INSTANCES)
    if route is not None and not re.fullmatch(r"[A-Za-z0-9._-]+", route):
        raise ValueError(f"route must be letters, digits, '.', '_' or '-': {route!r}")

    def expired(exc: ServletManagerError, request: Request):
        handler = exc.expiration_handler or default_expiration_handler
        return _as_response(handler(request), "the expiration handler", request)

    def answer(conn, request: Request, response) -> None:
        if route is not None and request.cookies.get(route_cookie) != route:
            response = _with_cookie(response, f"{route_cookie}={route}; Path=/; HttpOnly; "
                                              "SameSite=Lax")
        conn.respond(response)

    def dispatcher(conn, request: Request) -> None:
        marker = _K_MARK.search(request.path)
        turn = _Turn(request)
        try:
            if marker is not None:
                parts = _K_PARTS.fullmatch(marker.group(1))
                if parts is None:  # a damaged or foreign marker: expired, never a 500
                    raise NoContinuation("not a continuation id",
                                         manager.instance_expiration_handler)
                k = manager.continuation_lookup(parts.group(1), int(parts.group(2)),
                                                parts.group(3))
                k.invoke(turn)
            else:
                instance = _Instance(manager, servlet_responder)
                ServletGreenlet(instance, start, turn).start()
        except ServletManagerError as exc:
            answer(conn, request, expired(exc, request))
            return
        response = turn.reply.get()
        if response is _DECLINED:
            rewind_body(request)
            next_dispatcher()
        _detach(request)
        answer(conn, request, response)

    dispatcher.manager = manager  # type: ignore[attr-defined]
    return dispatcher

