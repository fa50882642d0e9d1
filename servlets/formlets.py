"""Formlets: forms whose rendering and processing are written once and compose.
Racket: ``web-server/formlets`` (``lib``, ``input``, ``syntax``, ``dyn-syntax``,
``servlet``, ``embed``).

A formlet renders to a list of x-expressions (its *forest*) whose inputs are named
``input_0``, ``input_1``, ... in document order, as Racket names them, and turns the
request's bindings into a value::

    date_formlet = formlet(("div", "Month:", input_int, "Day:", input_int),
                           lambda month, day: Date(month, day))
    formlet_display(date_formlet)   # [("div", [], "Month:", ("input", [("name", "input_0"),
                                    #   ("type", "text")]), "Day:", ("input", ...))]
    formlet_process(date_formlet, request)   # Date(10, 6)

``formlet(template, build)`` is Racket's ``formlet`` syntax: ``template`` is an
x-expression in which formlets stand where Racket writes ``,{f . => . name}``; their
values go to ``build`` as positional arguments, in document order.  Anything else in the
template is static markup (Racket's ``,e``); splice lists with ``*`` (Racket's ``,@``);
``forest(a, b, ...)`` is Racket's ``(#%# a b ...)``, several nodes without an enclosing
tag.  A formlet of several values (Racket's ``(values a b)``) returns a tuple.

``formlet_star(template, build)`` is Racket's ``formlet*``: the template is built at run
time, each ``star(f, "name")`` (Racket's ``(f . =>* . name)``) adds its value to the list
``name``, and ``build`` gets every list as a keyword argument (an empty list for names
that never occur).

Bindings are Racket's ``binding:form``: :class:`Binding` with ``id`` and ``value`` as
bytes (``to_string`` decodes UTF-8).  ``required`` on a missing field raises
:class:`FormletError`, a ``400 Bad Request``.
"""
from __future__ import annotations

import inspect
import math
import sys
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Request as _AnyRequest

from dispatch.http.request import Request
from dispatch.http.response import response_xexpr

__all__ = [
    "Binding", "BindingFile", "Formlet", "FormletError",
    # lib
    "pure", "cross", "cross_star", "xml_forest", "xml", "text", "tag_xexpr",
    "formlet_display", "formlet_process",
    # syntax
    "formlet", "forest", "formlet_star", "star",
    # input
    "make_input", "make_input_star", "input", "text_input", "password_input", "checkbox",
    "radio", "radio_group", "checkbox_group", "submit", "reset", "file_upload", "hidden",
    "img", "button", "multiselect_input", "select_input", "textarea_input", "required",
    "default", "to_string", "to_number", "to_symbol", "to_boolean", "input_string",
    "input_int", "input_symbol",
    # servlet
    "send_formlet", "embed_formlet",
]

Text = Union[str, bytes]
Attributes = Sequence[tuple]


class FormletError(BadRequest, ValueError):
    """A request the formlet cannot process (a required field is missing)."""

    def __init__(self, message: str) -> None:
        super().__init__(description=message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Binding:
    """A form field.  Racket: ``binding:form`` (``binding-id``, ``binding:form-value``)."""

    __slots__ = ("id", "value")

    def __init__(self, id: bytes, value: bytes) -> None:
        self.id = id
        self.value = value

    def __eq__(self, other) -> bool:
        return (type(other) is type(self) and self.id == other.id
                and self.value == other.value)

    def __hash__(self) -> int:
        return hash((self.id, self.value))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, {self.value!r})"


class BindingFile(Binding):
    """An uploaded file.  Racket: ``binding:file``; ``value`` is the content."""

    __slots__ = ("filename", "headers")

    def __init__(self, id: bytes, filename: bytes, headers, value: bytes) -> None:
        super().__init__(id, value)
        self.filename = filename
        self.headers = headers


def _utf8(x: Text) -> str:
    return x.decode("utf-8") if isinstance(x, bytes) else x


def request_bindings(request: Union[Request, Iterable[Binding]]) -> list[Binding]:
    """The request's query and form fields, then its files, as :class:`Binding` objects
    (Racket: ``request-bindings/raw``).  A list of bindings is returned as it is."""
    if not isinstance(request, _AnyRequest):
        return list(request)
    out = [Binding(k.encode("utf-8"), v.encode("utf-8"))  # type: ignore[attr-defined]
           for k, v in request.values.items(multi=True)]
    for name, storage in request.files.items(multi=True):
        out.append(BindingFile(name.encode("utf-8"), (storage.filename or "").encode("utf-8"),
                               list(storage.headers.items()), storage.read()))
    return out


# -- lib: the combinators -------------------------------------------------------------

class Formlet:
    """A formlet: called with the next input number ``i`` it returns
    ``(forest, process, next_i)``, ``process(bindings)`` giving the value."""

    __slots__ = ("run",)

    def __init__(self, run: Callable[[int], tuple]) -> None:
        self.run = run

    def __call__(self, i: int) -> tuple:
        return self.run(i)

    def __repr__(self) -> str:
        return f"<formlet {getattr(self.run, '__qualname__', self.run)}>"


def _const(x):
    return lambda env: x


def _identity(x):
    return x


def pure(x: Any) -> Formlet:
    """Renders nothing; its value is ``x``."""
    return Formlet(lambda i: ([], _const(x), i))


def cross(f: Formlet, p: Formlet) -> Formlet:
    """Both renderings; the value is ``f``'s value (a function) applied to ``p``'s."""
    def run(i):
        x1, a1, i = f(i)
        x2, a2, i = p(i)
        return x1 + x2, (lambda env: a1(env)(a2(env))), i
    return Formlet(run)


def cross_star(f: Formlet, *gs: Formlet) -> Formlet:
    """Racket's ``cross*``: ``f``'s value applied to the values of all of ``gs``."""
    def run(i):
        fx, fp, i = f(i)
        xs, ps = list(fx), []
        for g in gs:
            gx, gp, i = g(i)
            xs.extend(gx)
            ps.append(gp)
        return xs, (lambda env: fp(env)(*[p(env) for p in ps])), i
    return Formlet(run)


def xml_forest(x: Sequence) -> Formlet:
    """Renders the x-expressions ``x``; its value is the identity function."""
    x = list(x)
    return Formlet(lambda i: (list(x), _const(_identity), i))


def xml(x) -> Formlet:
    """Renders the x-expression ``x``."""
    return xml_forest([x])


def text(x: str) -> Formlet:
    """Renders the text ``x``."""
    return xml(x)


def tag_xexpr(tag: str, attributes: Attributes, f: Formlet) -> Formlet:
    """``f`` inside the element ``(tag attributes ...)``."""
    attributes = list(attributes)

    def run(i):
        x, p, i = f(i)
        return [(tag, list(attributes), *x)], p, i
    return Formlet(run)


def formlet_display(f: Formlet) -> list:
    """The formlet's forest of x-expressions."""
    return f(0)[0]


def formlet_process(f: Formlet, request: Union[Request, Iterable[Binding]]) -> Any:
    """The formlet's value from ``request``'s bindings (or a list of bindings)."""
    return f(0)[1](request_bindings(request))


# -- syntax: formlet, formlet* -----------------------------------------------------------

class forest(tuple):
    """Several nodes without an enclosing element.  Racket: ``(#%# node ...)``."""

    def __new__(cls, *nodes):
        return super().__new__(cls, nodes)


class _Star:
    __slots__ = ("formlet", "names")

    def __init__(self, f: Formlet, names: tuple) -> None:
        self.formlet = f
        self.names = names


def star(f: Formlet, *names: str) -> _Star:
    """In a ``formlet_star`` template: add ``f``'s value to the list ``names[0]`` (with
    several names, ``f``'s tuple is spread over them).  Racket: ``(f . =>* . name)``."""
    if not names:
        raise TypeError("star needs at least one name")
    return _Star(f, names)


def _is_attributes(item) -> bool:
    if isinstance(item, dict):
        return True
    return type(item) is list and all(
        type(pair) in (tuple, list) and len(pair) == 2 and all(type(s) is str for s in pair)
        for pair in item)


def _element(node) -> Optional[tuple]:
    """``(tag, attributes, children)`` when ``node`` is an element."""
    if type(node) in (tuple, list) and node and type(node[0]) is str:
        if len(node) > 1 and _is_attributes(node[1]):
            attrs = list(node[1].items()) if isinstance(node[1], dict) else list(node[1])
            return node[0], attrs, node[2:]
        return node[0], [], node[1:]
    return None


def _concat(*lists):
    out = []
    for values in lists:
        out.extend(values)
    return out


def _compile(node, leaf: Callable[[Any], Optional[Formlet]]) -> Formlet:
    """A formlet rendering ``node`` whose value is the list of its leaves' values."""
    found = leaf(node)
    if found is not None:
        return found
    if isinstance(node, forest):
        return cross_star(pure(_concat), *[_compile(n, leaf) for n in node])
    element = _element(node)
    if element is not None:
        tag, attrs, children = element
        return tag_xexpr(tag, attrs,
                         cross_star(pure(_concat), *[_compile(n, leaf) for n in children]))
    if isinstance(node, (Formlet, _Star)):
        raise TypeError(f"{node!r}: use star(formlet, name) in formlet_star templates "
                        "and plain formlets in formlet templates")
    return Formlet(lambda i: ([node], _const([]), i))


def _positional(node) -> Optional[Formlet]:
    if isinstance(node, Formlet):
        return cross(pure(lambda value: [value]), node)
    return None


def formlet(template, build: Callable[..., Any]) -> Formlet:
    """Racket's ``formlet`` syntax: ``build(*values)`` of the formlets in ``template``."""
    return cross(pure(lambda values: build(*values)), _compile(template, _positional))


def _labelled(node) -> Optional[Formlet]:
    if isinstance(node, _Star):
        names = node.names
        if len(names) == 1:
            return cross(pure(lambda value: [(names[0], value)]), node.formlet)
        def spread(values):
            if len(values) != len(names):
                raise TypeError(f"star: {len(values)} values for the names {names}")
            return list(zip(names, values))
        return cross(pure(spread), node.formlet)
    return None


def formlet_star(template, build: Callable[..., Any]) -> Formlet:
    """Racket's ``formlet*``: ``build(**lists)`` of the ``star``-labelled formlets."""
    try:
        parameters = [p.name for p in inspect.signature(build).parameters.values()
                      if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    except (TypeError, ValueError):
        parameters = []

    def collect(pairs):
        lists: dict[str, list] = {name: [] for name in parameters}
        for name, value in pairs:
            lists.setdefault(name, []).append(value)
        return build(**lists)
    return cross(pure(collect), _compile(template, _labelled))


# -- input: the HTML inputs ---------------------------------------------------------------

def _next_name(i: int) -> tuple[str, int]:
    return f"input_{i}", i + 1


def make_input_star(render: Callable[[str], Any]) -> Formlet:
    """An input named by this formlet; its value is every binding of that name.
    Racket: ``make-input*``."""
    return _make_input_star_forest(lambda name: [render(name)])


def _make_input_star_forest(render: Callable[[str], list]) -> Formlet:
    def run(i):
        name, i = _next_name(i)
        wanted = name.encode()
        return render(name), (lambda env: [b for b in env if b.id == wanted]), i
    return Formlet(run)


def make_input(render: Callable[[str], Any]) -> Formlet:
    """An input named by this formlet; its value is its first binding or ``None``.
    Racket: ``make-input``."""
    def run(i):
        name, i = _next_name(i)
        wanted = name.encode()

        def process(env):
            return next((b for b in env if b.id == wanted), None)
        return [render(name)], process, i
    return Formlet(run)


def _present(*pairs) -> list:
    return [pair for pair in pairs if pair is not None]


def input(type: str = "text", value: Optional[Text] = None, size: Optional[int] = None,
          max_length: Optional[int] = None, read_only: bool = False,
          attributes: Attributes = ()) -> Formlet:
    """Racket: ``input`` (``#:max-length`` is ``max_length``, ``#:read-only?``
    ``read_only``)."""
    extra = _present(
        ("value", _utf8(value)) if value is not None else None,
        ("size", str(size)) if size is not None else None,
        ("maxlength", str(max_length)) if max_length is not None else None,
        ("readonly", "true") if read_only else None) + [tuple(a) for a in attributes]
    return make_input(lambda n: ("input", [("name", n), ("type", type)] + extra))


def text_input(value: Optional[Text] = None, size: Optional[int] = None,
               max_length: Optional[int] = None, read_only: bool = False,
               attributes: Attributes = ()) -> Formlet:
    return input("text", value, size, max_length, read_only, attributes)


def password_input(value: Optional[Text] = None, size: Optional[int] = None,
                   max_length: Optional[int] = None, read_only: bool = False,
                   attributes: Attributes = ()) -> Formlet:
    return input("password", value, size, max_length, read_only, attributes)


def checkbox(value: Text, checked: bool, attributes: Attributes = ()) -> Formlet:
    return input("checkbox", value,
                 attributes=([("checked", "true")] if checked else []) + list(attributes))


def radio(value: Text, checked: bool, attributes: Attributes = ()) -> Formlet:
    return input("radio", value,
                 attributes=([("checked", "true")] if checked else []) + list(attributes))


def _input_group(items: Iterable, kind: str, attributes: Callable[[Any], Attributes],
                 checked: Callable[[Any], bool], display: Callable[[Any], Any],
                 wrap: Callable[[Any, Any], list]) -> Formlet:
    elements = list(items)

    def recall(binding: Binding):
        try:
            return elements[int(binding.value)]
        except (ValueError, IndexError):
            raise FormletError(f"Invalid selection: {binding.value!r}") from None

    def render(name):
        out = []
        for number, e in enumerate(elements):
            attrs = [("name", name), ("type", kind), ("value", str(number))]
            if checked(e):
                attrs.append(("checked", "true"))
            out.extend(wrap(("input", attrs + [tuple(a) for a in attributes(e)]), display(e)))
        return out

    def values(bindings):
        chosen = [recall(b) for b in bindings]
        if kind == "radio":
            if not chosen:
                raise FormletError("Missing required field")
            return chosen[0]
        return chosen
    return cross(pure(values), _make_input_star_forest(render))


def radio_group(items: Iterable, attributes: Callable[[Any], Attributes] = lambda e: (),
                checked: Callable[[Any], bool] = lambda e: False,
                display: Callable[[Any], Any] = _identity,
                wrap: Callable[[Any, Any], list] = lambda i, d: [i, d]) -> Formlet:
    """One of ``items`` (Racket: ``radio-group``; ``#:checked?`` is ``checked``)."""
    return _input_group(items, "radio", attributes, checked, display, wrap)


def checkbox_group(items: Iterable, attributes: Callable[[Any], Attributes] = lambda e: (),
                   checked: Callable[[Any], bool] = lambda e: False,
                   display: Callable[[Any], Any] = _identity,
                   wrap: Callable[[Any, Any], list] = lambda i, d: [i, d]) -> Formlet:
    """The list of the checked ``items``.  Racket: ``checkbox-group``."""
    return _input_group(items, "checkbox", attributes, checked, display, wrap)


def submit(value: Text, attributes: Attributes = ()) -> Formlet:
    return input("submit", value, attributes=attributes)


def reset(value: Text, attributes: Attributes = ()) -> Formlet:
    return input("reset", value, attributes=attributes)


def file_upload(attributes: Attributes = ()) -> Formlet:
    return input("file", attributes=attributes)


def hidden(value: Text, attributes: Attributes = ()) -> Formlet:
    return input("hidden", value, attributes=attributes)


def img(alt: Text, src: Text, height: Optional[int] = None, longdesc: Optional[Text] = None,
        usemap: Optional[Text] = None, width: Optional[int] = None,
        attributes: Attributes = ()) -> Formlet:
    extra = _present(
        ("height", str(height)) if height is not None else None,
        ("longdesc", _utf8(longdesc)) if longdesc is not None else None,
        ("usemap", _utf8(usemap)) if usemap is not None else None,
        ("width", str(width)) if width is not None else None) + [tuple(a) for a in attributes]
    return make_input(lambda n: ("img", [("name", n), ("src", _utf8(src)),
                                         ("alt", _utf8(alt))] + extra))


def button(type: Text, text: Text, disabled: bool = False, value: Optional[Text] = None,
           attributes: Attributes = ()) -> Formlet:
    extra = _present(
        ("disabled", "true") if disabled else None,
        ("value", _utf8(value)) if value is not None else None) + [tuple(a) for a in attributes]
    return make_input(lambda n: ("button", [("name", n), ("type", _utf8(type))] + extra,
                                 _utf8(text)))


def multiselect_input(items: Iterable, attributes: Attributes = (), multiple: bool = True,
                      selected: Callable[[Any], bool] = lambda e: False,
                      display: Callable[[Any], Any] = _identity) -> Formlet:
    """The list of the selected ``items``.  Racket: ``multiselect-input``."""
    elements = list(items)

    def recall(binding: Binding):
        try:
            return elements[int(binding.value)]
        except (ValueError, IndexError):
            raise FormletError(f"Invalid selection: {binding.value!r}") from None

    def render(name):
        attrs = ([("multiple", "true")] if multiple else []) + [("name", name)]
        options = [("option", [("value", str(n))] + ([("selected", "true")] if selected(e) else []),
                    display(e)) for n, e in enumerate(elements)]
        return ("select", attrs + [tuple(a) for a in attributes], *options)
    return cross(pure(lambda bindings: [recall(b) for b in bindings]), make_input_star(render))


def select_input(items: Iterable, attributes: Attributes = (),
                 selected: Callable[[Any], bool] = lambda e: False,
                 display: Callable[[Any], Any] = _identity) -> Formlet:
    """One of ``items``, or ``None``.  Racket: ``select-input``."""
    return cross(pure(lambda chosen: chosen[0] if chosen else None),
                 multiselect_input(items, attributes, False, selected, display))


def textarea_input(value: Optional[Text] = None, attributes: Attributes = (),
                   rows: Optional[int] = None, cols: Optional[int] = None) -> Formlet:
    extra = _present(("rows", str(rows)) if rows is not None else None,
                     ("cols", str(cols)) if cols is not None else None)
    return make_input(lambda n: ("textarea", [("name", n)] + extra + [tuple(a) for a in attributes],
                                 _utf8(value) if value is not None else ""))


# -- high level ---------------------------------------------------------------------------

def _required_value(binding):
    if isinstance(binding, Binding):
        return binding.value
    raise FormletError("Missing required field")


def required(f: Formlet) -> Formlet:
    """The field's bytes; missing: :class:`FormletError` (400)."""
    return cross(pure(_required_value), f)


def default(d: bytes, f: Formlet) -> Formlet:
    """The field's bytes, or ``d`` when it is missing."""
    return cross(pure(lambda b: b.value if isinstance(b, Binding) else d), f)


def _decode(b: bytes) -> str:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        raise FormletError("not UTF-8 text") from None


def to_string(f: Formlet) -> Formlet:
    """UTF-8 bytes to text."""
    return cross(pure(_decode), f)


def _number(s: str):
    """Racket's ``string->number`` for decimal input: an int, a float, or ``None``."""
    s = s.strip()
    try:
        return int(s)
    except ValueError:
        pass
    try:
        number = float(s)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def to_number(f: Formlet) -> Formlet:
    """Text to a number (``None`` when it is not one, as Racket's ``#f``)."""
    return cross(pure(_number), f)


def to_symbol(f: Formlet) -> Formlet:
    """Text to an interned string (Python has no symbols)."""
    return cross(pure(sys.intern), f)


def to_boolean(f: Formlet) -> Formlet:
    """``b"on"`` (a checked checkbox) is ``True``."""
    return cross(pure(lambda b: b == b"on"), f)


input_string = to_string(required(text_input()))
input_int = to_number(input_string)
input_symbol = to_symbol(input_string)


# -- servlet, embed -------------------------------------------------------------------------

def _wrap_page(form):
    return ("html", ("head", ("title", "Form Entry")), ("body", form))


def send_formlet(f: Formlet, method: str = "POST", wrap: Callable[[Any], Any] = _wrap_page):
    """Send a page with ``f`` in a form, wait for it, return its value.
    Racket: ``send/formlet`` (from a stateful servlet)."""
    from .web import send_suspend

    if method.upper() not in ("GET", "POST"):
        raise ValueError(f"method must be GET or POST, not {method!r}")
    request = send_suspend(lambda k_url: response_xexpr(wrap(
        ("form", [("action", k_url), ("method", method)], *formlet_display(f)))))
    return formlet_process(f, request)


def embed_formlet(embed_url: Callable[[Callable], str], f: Formlet):
    """A form for ``f`` whose submission returns its value from the
    ``send_suspend_dispatch`` that gave ``embed_url``.  Racket: ``embed-formlet``."""
    return ("form", [("action", embed_url(lambda request: formlet_process(f, request)))],
            *formlet_display(f))
