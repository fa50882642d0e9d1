"""Two-way URL dispatch.  Racket: ``web-server/dispatch`` (``dispatch-rules``,
``dispatch-case``, ``dispatch-url``, ``dispatch-rules+applies``, ``serve/dispatch``,
containers, and the URL argument patterns of ``web-server/dispatch/url-patterns``).

::

    blog_dispatch, blog_url = dispatch_rules(
        (("",), list_posts),
        (("posts", string_arg()), review_post),
        (("archive", integer_arg(), integer_arg()), review_archive))

    blog_dispatch(request)                  # -> review_archive(request, 1984, 10)
    blog_url(review_archive, 1984, 11)      # -> "/archive/1984/11"

A rule is ``(pattern, handler)`` or ``(pattern, method, handler)``.  A pattern is a
tuple of literal path segments (strings) and arguments (:class:`Arg`); an argument
followed by ``...`` (Python's Ellipsis, as Racket's ``...``) takes any number of
segments and gives the handler a list.  Handlers are called as
``handler(request, *arguments)`` and their result is returned.

``method`` is a method name or a tuple of them, any case (Racket's ``#:method``
pattern); ``"*"`` takes every method.  Left out, a rule takes GET; a rule that takes
GET takes HEAD too.
A request whose path some rule matches but whose method none takes gets ``405`` with
``Allow``; a segment an argument cannot parse makes the rule fail, and the next rule is
tried.  With no ``else_``, an unmatched request declines (``next_dispatcher()``), so
``dispatch_servlet(blog_dispatch)`` composes in a sequencer.

Paths are matched segment by segment, percent-decoded: ``/`` is ``("",)``, ``/a/`` is
``("a", "")``.  The root ``/`` is tried as Racket's empty path first (which HTTP
cannot send), then as ``("",)``: both ``()`` and ``("",)`` match it.
"""
from __future__ import annotations

import contextvars
import math
import re
from fractions import Fraction
from typing import Any, Callable, Iterable, Optional, Sequence, Union
from urllib.parse import quote, unquote_to_bytes, urlsplit

from werkzeug.exceptions import MethodNotAllowed

from dispatch.core import DispatcherNotApplicable, next_dispatcher

__all__ = [
    "Arg", "Container", "DispatchUrlError", "Symbol", "define_container", "dispatch_case",
    "dispatch_rules", "dispatch_rules_applies", "dispatch_url", "integer_arg",
    "make_arg", "make_coerce_safe", "number_arg", "real_arg", "serve_dispatch",
    "string_arg", "symbol_arg", "ws_dispatch_rules",
]
# web-server/dispatch/extend
__all__ += ["CoercionMatchExpander", "define_bidi_match_expander",
            "define_coercion_match_expander", "is_bidi_match_going_in"]

Handler = Callable[..., Any]


class Arg:
    """A URL argument: Racket's bi-directional match expander.

    ``parse(segment) -> value`` reads a path segment (any exception: no match);
    ``unparse(value) -> str`` writes one back (any exception: this rule does not fit
    the value, and ``url`` tries the next)."""

    __slots__ = ("parse", "unparse", "name")

    def __init__(self, parse: Callable[[str], Any], unparse: Callable[[Any], str],
                 name: str = "arg") -> None:
        self.parse, self.unparse, self.name = parse, unparse, name

    def __repr__(self) -> str:
        return f"{self.name}()"


def make_arg(parse: Callable[[str], Any], unparse: Callable[[Any], str],
             name: str = "arg") -> Arg:
    """A user-defined URL argument.  Racket: ``define-bidi-match-expander``."""
    return Arg(parse, unparse, name)


#: Racket's spelling, ``define-bidi-match-expander``: the very same function as
#: :func:`make_arg` (``in`` parses a segment, ``out`` writes a value back).
define_bidi_match_expander = make_arg

# True while a URL is parsed (the default, as Racket's syntax parameter), False while
# dispatch_url's url() writes one: only url() sets it, so parsing costs nothing more.
_going_in: contextvars.ContextVar[bool] = contextvars.ContextVar("bidi_match_going_in",
                                                                  default=True)


def is_bidi_match_going_in() -> bool:
    """Whether the argument's procedure is called to parse a URL (``True``) or to write
    one (``False``, inside ``url(handler, ...)``).  Racket: ``bidi-match-going-in?``,
    which lets one expander serve both ways: ``make_arg(f, f)`` where ``f`` asks."""
    return _going_in.get()


class CoercionMatchExpander:
    """A one-way argument procedure: ``expander(x)`` is ``coerce(x)`` when ``test(x)``
    holds, and raises ``ValueError`` (no match) otherwise.  What
    :func:`define_coercion_match_expander` makes."""

    __slots__ = ("test", "coerce")

    def __init__(self, test: Callable[[Any], Any], coerce: Callable[[Any], Any]) -> None:
        self.test, self.coerce = test, coerce

    def __call__(self, value: Any) -> Any:
        if not self.test(value):
            raise ValueError(f"{value!r} does not pass {getattr(self.test, '__name__', self.test)}")
        return self.coerce(value)

    def __repr__(self) -> str:
        return f"define_coercion_match_expander({self.test!r}, {self.coerce!r})"


def define_coercion_match_expander(test: Callable[[Any], Any],
                                   coerce: Callable[[Any], Any]) -> CoercionMatchExpander:
    """The match expander ``(? test (app coerce x))``: a procedure that gives
    ``coerce(x)`` for an ``x`` that passes ``test`` and fails to match (raises
    ``ValueError``) otherwise.  Racket: ``define-coercion-match-expander``.  Use two as
    the halves of :func:`make_arg` (as Racket's ``integer-arg`` is made)::

        string_to_integer = define_coercion_match_expander(
            make_coerce_safe(int), int)
        integer_to_string = define_coercion_match_expander(
            lambda n: isinstance(n, int), str)
        my_integer_arg = make_arg(string_to_integer, integer_to_string)
    """
    for name, value in (("test", test), ("coerce", coerce)):
        if not callable(value):
            raise TypeError(f"define_coercion_match_expander: {name} must be a procedure, "
                            f"given {type(value).__name__} {value!r}")
    return CoercionMatchExpander(test, coerce)


def make_coerce_safe(coerce: Callable[[Any], Any]) -> Callable[[Any], bool]:
    """Whether ``coerce`` returns a true value without raising.  Racket:
    ``make-coerce-safe?``."""

    def safe(value: Any) -> bool:
        try:
            result = coerce(value)
        except Exception:
            return False
        return result is not None and result is not False

    return safe


class Symbol(str):
    """What :func:`symbol_arg` parses to, and the only value it writes back (a plain
    string is a ``string_arg``'s): Racket's symbols."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Symbol({str.__repr__(self)})"


# Racket's number syntax, the parts that have Python twins: integers, decimals with
# exponents, exact fractions, the infinities and NaN.
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_FRACTION = re.compile(r"([+-]?[0-9]+)/([0-9]+)")
_SPECIAL = {"+inf.0": math.inf, "-inf.0": -math.inf, "+nan.0": math.nan, "-nan.0": math.nan}


def _string_to_real(text: str) -> Union[int, float, Fraction]:
    if _INTEGER.fullmatch(text):
        return int(text)
    if _DECIMAL.fullmatch(text):
        return float(text)
    match = _FRACTION.fullmatch(text)
    if match and int(match.group(2)) != 0:
        value = Fraction(int(match.group(1)), int(match.group(2)))
        return value.numerator if value.denominator == 1 else value
    if text in _SPECIAL:
        return _SPECIAL[text]
    raise ValueError(f"not a real number: {text!r}")


def _real_to_string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise TypeError(f"not a real number: {value!r}")
    if isinstance(value, float):
        if math.isnan(value):
            return "+nan.0"
        if math.isinf(value):
            return "+inf.0" if value > 0 else "-inf.0"
        return repr(value)
    return str(value)


def _string_to_number(text: str) -> Union[int, float, Fraction, complex]:
    try:
        return _string_to_real(text)
    except ValueError:
        if not text.endswith("i"):
            raise
    body = text[:-1]
    # the imaginary part starts at the last sign that is not an exponent's
    for k in range(len(body) - 1, -1, -1):
        if body[k] in "+-" and (k == 0 or body[k - 1] not in "eE"):
            real, imag = body[:k], body[k:]
            imag_value = _string_to_real(imag + "1" if imag in "+-" else imag)
            return complex(float(_string_to_real(real)) if real else 0.0, float(imag_value))
    raise ValueError(f"not a number: {text!r}")


def _number_to_string(value: Any) -> str:
    if isinstance(value, complex):
        imag = _real_to_string(value.imag)
        return f"{_real_to_string(value.real)}{'' if imag[0] in '+-' else '+'}{imag}i"
    return _real_to_string(value)


def _string_to_integer(text: str) -> int:
    if _INTEGER.fullmatch(text) is None:
        raise ValueError(f"not an integer: {text!r}")
    return int(text)


def _integer_to_string(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"not an integer: {value!r}")
    return str(value)


def _string_to_string(text: str) -> str:
    return text


def _check_string(value: Any) -> str:
    if isinstance(value, Symbol) or not isinstance(value, str):
        raise TypeError(f"not a string: {value!r}")
    return value


def _check_symbol(value: Any) -> str:
    if not isinstance(value, Symbol):
        raise TypeError(f"not a Symbol: {value!r}")
    return str(value)


_STRING = Arg(_string_to_string, _check_string, "string_arg")
_INTEGER_ARG = Arg(_string_to_integer, _integer_to_string, "integer_arg")
_REAL = Arg(_string_to_real, _real_to_string, "real_arg")
_NUMBER = Arg(_string_to_number, _number_to_string, "number_arg")
_SYMBOL = Arg(Symbol, _check_symbol, "symbol_arg")


def string_arg() -> Arg:
    """Any segment, as a string.  Racket: ``(string-arg)``."""
    return _STRING


def integer_arg() -> Arg:
    """A decimal integer (``-3``, ``42``).  Racket: ``(integer-arg)``."""
    return _INTEGER_ARG


def real_arg() -> Arg:
    """A real number: integers, decimals (``2.5``, ``1e3``), fractions (``1/3``) and
    Racket's ``+inf.0``/``-inf.0``/``+nan.0``.  Racket: ``(real-arg)``."""
    return _REAL


def number_arg() -> Arg:
    """A number: a real, or a complex ``1+2i``.  Racket: ``(number-arg)``."""
    return _NUMBER


def symbol_arg() -> Arg:
    """Any segment, as a :class:`Symbol`.  Racket: ``(symbol-arg)``."""
    return _SYMBOL


class DispatchUrlError(ValueError):
    """``url(handler, *args)`` found no rule for ``handler`` that fits ``args``."""


# --- patterns ----------------------------------------------------------------------

class _Rule:
    __slots__ = ("pattern", "methods", "handler", "has_rest")

    def __init__(self, pattern: tuple, methods: Optional[frozenset], handler: Handler):
        self.pattern, self.methods, self.handler = pattern, methods, handler
        self.has_rest = any(rest for _, rest in pattern)

    def takes(self, method: str) -> bool:
        return self.methods is None or method in self.methods


def _compile_pattern(pattern: Any) -> tuple:
    """``("a", integer_arg(), ...)`` -> ``(("a", False), (Arg, True))``: items with
    whether an ellipsis follows.  Racket's ``dispatch-pattern?``: an ellipsis follows
    an argument, never a literal, never another ellipsis."""
    if isinstance(pattern, str) or not isinstance(pattern, (tuple, list)):
        raise TypeError(f"a dispatch pattern is a tuple of strings and arguments, "
                        f"not {pattern!r}")
    items: list = []
    for item in pattern:
        if item is Ellipsis:
            if not items or not isinstance(items[-1][0], Arg) or items[-1][1]:
                raise ValueError(f"'...' must follow an argument in {pattern!r}")
            items[-1] = (items[-1][0], True)
        elif isinstance(item, (str, Arg)):
            items.append((item, False))
        else:
            raise TypeError(f"{item!r} in {pattern!r} is neither a string nor an argument")
    return tuple(items)


def _methods(method: Any) -> Optional[frozenset]:
    if method is None:
        return frozenset({"GET", "HEAD"})
    if isinstance(method, str):
        method = (method,)
    if not method or not all(isinstance(m, str) and m for m in method):
        raise ValueError(f"not a method or methods: {method!r}")
    names = frozenset(m.upper() for m in method)
    if "*" in names:
        return None
    return names | {"HEAD"} if "GET" in names else names  # GET answers HEAD too


def _compile_rules(rules: Sequence) -> list:
    compiled = []
    for rule in rules:
        if not isinstance(rule, (tuple, list)) or len(rule) not in (2, 3):
            raise TypeError(f"a rule is (pattern, handler) or (pattern, method, handler), "
                            f"not {rule!r}")
        pattern, method, handler = (rule[0], None, rule[1]) if len(rule) == 2 else rule
        if not callable(handler):
            raise TypeError(f"the handler of {rule!r} is not callable")
        compiled.append(_Rule(_compile_pattern(pattern), _methods(method), handler))
    return compiled


_NO_MATCH = object()


def _match(items: tuple, segments: list, i: int = 0, s: int = 0) -> Any:
    """The handler's arguments, or ``_NO_MATCH``.  Ellipses are greedy and give
    back segments when what follows would not match (as Racket's ``match``)."""
    if i == len(items):
        return [] if s == len(segments) else _NO_MATCH
    item, rest = items[i]
    if isinstance(item, str):
        if s < len(segments) and segments[s] == item:
            return _match(items, segments, i + 1, s + 1)
        return _NO_MATCH
    if not rest:
        if s == len(segments):
            return _NO_MATCH
        try:
            value = item.parse(segments[s])
        except Exception:  # an argument that does not parse: this rule fails
            return _NO_MATCH
        tail = _match(items, segments, i + 1, s + 1)
        return _NO_MATCH if tail is _NO_MATCH else [value, *tail]
    values = []
    for segment in segments[s:]:
        try:
            values.append(item.parse(segment))
        except Exception:
            break
    for taken in range(len(values), -1, -1):
        tail = _match(items, segments, i + 1, s + taken)
        if tail is not _NO_MATCH:
            return [values[:taken], *tail]
    return _NO_MATCH


def _path_segments(request: Any) -> list:
    """The request's URL path as decoded segments, split before decoding where the
    server kept the raw target (so that ``%2F`` stays inside its segment)."""
    environ = getattr(request, "environ", {})
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        path = raw if raw.startswith("/") else urlsplit(raw).path or "/"
        path = path.split("?", 1)[0].split("#", 1)[0]
        script = environ.get("SCRIPT_NAME", "")
        if script and path.startswith(script):  # mounted: match the part below
            path = path[len(script):] or "/"
        return [unquote_to_bytes(p).decode("utf-8", "replace") for p in path[1:].split("/")]
    return request.path[1:].split("/")


def _find(rules: list, request: Any) -> tuple:
    """``(rule, args)`` for the first rule that takes the request; ``(None, allowed)``
    with the methods of rules whose path alone matched."""
    segments = _path_segments(request)
    method = request.method.upper()
    allowed: set = set()
    for rule in rules:
        args = _match(rule.pattern, segments if segments != [""] else [])
        if args is _NO_MATCH and segments == [""]:
            args = _match(rule.pattern, segments)
        if args is _NO_MATCH:
            continue
        if rule.takes(method):
            return rule, args
        allowed.update(rule.methods or ())
    return None, allowed


def _method_not_allowed(allowed: Iterable[str]):
    raise MethodNotAllowed(valid_methods=sorted(allowed))


def _make_case(rules: list, else_: Optional[Callable]) -> Callable:
    def dispatch(request):
        rule, args = _find(rules, request)
        if rule is not None:
            return rule.handler(request, *args)
        if args:
            _method_not_allowed(args)
        if else_ is not None:
            return else_(request)
        next_dispatcher()

    dispatch.rules = rules  # type: ignore[attr-defined]
    return dispatch


def dispatch_case(*rules, else_: Optional[Callable] = None) -> Callable:
    """The dispatching half of :func:`dispatch_rules`.  Racket: ``dispatch-case``."""
    return _make_case(_compile_rules(rules), else_)


_SEGMENT_SAFE = "!$&'()*+,=:@-._~"


def _unparse(items: tuple, args: tuple) -> list:
    """The path segments for ``args``; raises when they do not fit the pattern."""
    wanted = sum(1 for item, _ in items if isinstance(item, Arg))
    if len(args) != wanted:
        raise TypeError(f"{len(args)} arguments for {wanted}")
    segments: list = []
    values = iter(args)
    for item, rest in items:
        if isinstance(item, str):
            segments.append(item)
        elif rest:
            value = next(values)
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                raise TypeError(f"a list for '...', not {value!r}")
            segments.extend(item.unparse(v) for v in value)
        else:
            segments.append(item.unparse(next(values)))
    for segment in segments:
        if not isinstance(segment, str):
            raise TypeError(f"unparse gave {segment!r}, not a string")
    return segments


def _string_list_to_url(segments: list) -> str:
    """Racket's ``string-list->url``: ``()`` -> ``/``, ``("a", "")`` -> ``/a/``."""
    return "/" + "/".join(quote(s, safe=_SEGMENT_SAFE) for s in segments)


def _make_url(rules: list) -> Callable[..., str]:
    def url(handler: Handler, *args: Any) -> str:
        token = _going_in.set(False)
        try:
            for rule in rules:
                if rule.handler is not handler:
                    continue
                try:
                    return _string_list_to_url(_unparse(rule.pattern, args))
                except Exception:  # this rule does not fit the arguments; try the next
                    continue
        finally:
            _going_in.reset(token)
        name = getattr(handler, "__name__", repr(handler))
        raise DispatchUrlError(f"no rule for {name} takes {args!r}")

    return url


def dispatch_url(*rules) -> Callable[..., str]:
    """``url(handler, *args)``: the URL of the first rule for ``handler`` whose pattern
    fits ``args``, or :class:`DispatchUrlError`.  Racket: ``dispatch-url``.  Rules may
    carry a method, which is ignored here."""
    return _make_url(_compile_rules(rules))


def dispatch_rules(*rules, else_: Optional[Callable] = None) -> tuple:
    """``(dispatch, url)``.  Racket: ``dispatch-rules`` (``else_`` is its
    ``[else else-fun]``)."""
    compiled = _compile_rules(rules)
    return _make_case(compiled, else_), _make_url(compiled)


def dispatch_rules_applies(*rules, else_: Optional[Callable] = None) -> tuple:
    """``(dispatch, url, applies)``; ``applies(request)`` tells whether a rule takes the
    request (always, with ``else_``).  Racket: ``dispatch-rules+applies``."""
    compiled = _compile_rules(rules)

    def applies(request) -> bool:
        return else_ is not None or _find(compiled, request)[0] is not None

    return _make_case(compiled, else_), _make_url(compiled), applies


# --- containers ----------------------------------------------------------------------

class Container:
    """Rules added over time; the newest are consulted first.  Racket: containers
    (``define-container``, ``dispatch-rules!``)."""

    def __init__(self) -> None:
        self.bunches: list = []  # [(dispatch, url)], newest first

    def dispatch_rules(self, *rules) -> None:
        """Add rules, consulted before those already here.  Racket: ``dispatch-rules!``."""
        self.bunches.insert(0, dispatch_rules(*rules))

    def dispatch(self, request):
        for bunch_dispatch, _ in list(self.bunches):
            try:
                return bunch_dispatch(request)
            except DispatcherNotApplicable:
                continue
        next_dispatcher()

    def url(self, handler: Handler, *args: Any) -> str:
        for _, bunch_url in list(self.bunches):
            try:
                return bunch_url(handler, *args)
            except DispatchUrlError:
                continue
        raise DispatchUrlError(f"no rule for {getattr(handler, '__name__', handler)} "
                               f"takes {args!r}")


def define_container() -> tuple:
    """``(container, dispatch, url)``.  Racket: ``define-container``."""
    container = Container()
    return container, container.dispatch, container.url


# --- serving -----------------------------------------------------------------------

def serve_dispatch(dispatch: Callable, **options) -> None:
    """Serve ``dispatch`` for every path.  Racket: ``serve/dispatch``: ``serve_servlet``
    with ``servlet_path="/"`` and a regexp that matches everything; other keywords
    go to :func:`servlets.servlet_env.serve_servlet`."""
    from .servlet_env import serve_servlet

    options.setdefault("servlet_path", "/")
    options.setdefault("servlet_regexp", "")
    serve_servlet(dispatch, **options)


def ws_dispatch_rules(*rules, **accept_options) -> Callable:
    """A dispatcher for WebSocket upgrades routed by the same patterns:
    ``handler(ws_conn, *arguments)``.  Rules are ``(pattern, handler)``; requests that
    are not upgrades, or whose path no rule matches, decline.  ``accept_options``
    (``options=``, ``deflate=``, ``origins=``, ``subprotocol=``) go to the handshake: a
    browser's handshake from another site than the server's own host gets 403 unless
    ``origins`` lists its origin (see :func:`dispatch.websocket.handshake.origin_policy`)."""
    from dispatch.websocket.dispatcher import accept
    from dispatch.websocket.handshake import is_upgrade, origin_policy

    accept_options["origins"] = origin_policy(accept_options.get("origins"),
                                              "ws_dispatch_rules: origins")
    compiled = _compile_rules([(r[0], "*", r[-1]) for r in rules])

    def dispatcher(conn, request):
        if not is_upgrade(conn.environ):
            next_dispatcher()
        rule, args = _find(compiled, request)
        if rule is None:
            next_dispatcher()
        accept(conn, request, rule.handler, tuple(args), **accept_options)

    return dispatcher
