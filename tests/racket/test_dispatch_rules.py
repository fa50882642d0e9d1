"""Port of Racket's ``web-server-test/tests/web-server/dispatch-test.rkt``.

Racket's macro-level tests (syntax patterns, match expanders in both directions) become
tests of the same behaviour through the Python API: ``Arg.parse``/``Arg.unparse`` for
the bi-directional match expanders, ``dispatch_rules`` for the syntax.  Racket's empty
URL (``http://www.example.com``, no ``/``) cannot be sent over HTTP; its requests here
are for ``/``, which also matches the empty pattern ``()``.
"""
import math

import pytest
from werkzeug.test import EnvironBuilder

from dispatch.core import DispatcherNotApplicable
from servlets import Request
from servlets.dispatch_rules import (
    DispatchUrlError,
    Symbol,
    define_bidi_match_expander,
    define_coercion_match_expander,
    define_container,
    dispatch_rules,
    dispatch_rules_applies,
    integer_arg,
    is_bidi_match_going_in,
    make_arg,
    make_coerce_safe,
    number_arg,
    real_arg,
    string_arg,
    symbol_arg,
)


def test_request(url, method="GET"):
    path = url.split("://", 1)[1].partition("/")[2]
    return Request(EnvironBuilder(path="/" + path, method=method).get_environ())


test_request.__test__ = False  # a helper, as Racket's test-request


def _string_to_number(s):
    return number_arg().parse(s)


# --- coercion -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["1", "1.2", "+inf.0"])
def test_make_coerce_safe_accepts(text):
    assert make_coerce_safe(_string_to_number)(text)


def test_make_coerce_safe_rejects():
    assert not make_coerce_safe(_string_to_number)("a")


@pytest.mark.parametrize("text, value", [("1", 1), ("1.2", 1.2), ("+inf.0", math.inf)])
def test_coercion_match_expander(text, value):
    assert number_arg().parse(text) == value


# Racket's define-coercion-match-expander suite, and its bidi-match suite built on it:
# (define-coercion-match-expander string->number/m string->number? string->number) ...
string_to_number_p = make_coerce_safe(_string_to_number)
string_to_number_m = define_coercion_match_expander(string_to_number_p, _string_to_number)
number_to_string_m = define_coercion_match_expander(
    lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    lambda v: number_arg().unparse(v))
number_arg_m = define_bidi_match_expander(string_to_number_m, number_to_string_m)


def _match(expander, value):
    """Racket's ``(match i [(expander a) a] [_ #f])``."""
    try:
        return expander(value)
    except ValueError:
        return False


@pytest.mark.parametrize("text, value", [("1", 1), ("1.2", 1.2), ("+inf.0", math.inf),
                                         ("a", False)])
def test_define_coercion_match_expander(text, value):
    assert _match(string_to_number_m, text) == value


@pytest.mark.parametrize("text, value", [("1", 1), ("1.2", 1.2), ("+inf.0", math.inf)])
def test_define_bidi_match_expander_both_ways(text, value):
    assert _match(number_arg_m.parse, text) == value      # bidi-match-going-in? #t
    assert _match(number_arg_m.unparse, value) == text    # bidi-match-going-in? #f


def test_define_bidi_match_expander_failures():
    assert _match(number_arg_m.parse, "a") is False        # (test "a" #f)
    assert _match(number_arg_m.unparse, "a") is False      # (test #f "a")


def test_bidi_match_going_in_tells_the_direction():
    """One procedure for both directions, asking bidi-match-going-in?: true while a URL
    is parsed (and outside dispatch-rules, its default), false while url() writes one."""
    seen = []

    def both(x):
        seen.append(is_bidi_match_going_in())
        return int(x) * 2 if is_bidi_match_going_in() else str(x // 2)

    def handler(request, n):
        return n

    dispatch, url = dispatch_rules((("double", make_arg(both, both)), handler))
    assert dispatch(test_request("http://example.com/double/21")) == 42
    assert url(handler, 42) == "/double/21"
    assert seen == [True, False] and is_bidi_match_going_in()


def test_define_coercion_match_expander_wants_procedures():
    with pytest.raises(TypeError, match="coerce must be a procedure"):
        define_coercion_match_expander(callable, 1)


# --- bidi-match -----------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [("1", 1), ("1.2", 1.2), ("+inf.0", math.inf)])
def test_bidi_match_both_ways(text, value):
    assert number_arg().parse(text) == value
    assert number_arg().unparse(value) == text


def test_bidi_match_failures():
    with pytest.raises(ValueError):
        number_arg().parse("a")
    with pytest.raises(TypeError):
        number_arg().unparse("a")


# --- http-expanders (url/paths, request/url) -----------------------------------------

def _first(rules, url, method="GET"):
    dispatch, _ = dispatch_rules(*rules)
    try:
        return dispatch(test_request(url, method))
    except DispatcherNotApplicable:
        return False


def test_url_paths():
    yes = lambda req, *args: args or True  # noqa: E731
    assert _first([(("new",), yes)], "http://www.example.com/new")
    assert _first([(("",), yes)], "http://www.example.com/")
    assert _first([((), yes)], "http://www.example.com")
    assert not _first([(("new",), yes)], "http://www.example.com/foo")
    assert _first([(("new", integer_arg()), yes)], "http://www.example.com/new/50") == (50,)
    assert not _first([(("new", integer_arg()), yes)], "http://www.example.com/new")


# --- pattern ---------------------------------------------------------------------------

@pytest.mark.parametrize("pattern", [(...,), ("foo", ...), (integer_arg(), ..., ...)])
def test_not_dispatch_patterns(pattern):
    with pytest.raises(ValueError):
        dispatch_rules((pattern, lambda req: None))


@pytest.mark.parametrize("pattern", [(integer_arg(), ...), (integer_arg(),), ("foo",), ()])
def test_dispatch_patterns(pattern):
    dispatch_rules((pattern, lambda req, *a: None))


# --- url-patterns -----------------------------------------------------------------------

def _check_arg(arg, pairs, in_fail, out_fail):
    for text, value in pairs:
        assert arg.parse(text) == value and type(arg.parse(text)) is type(value)
        assert arg.unparse(value) == text
    for text in in_fail:
        with pytest.raises((ValueError, TypeError)):
            arg.parse(text)
    for value in out_fail:
        with pytest.raises((ValueError, TypeError)):
            arg.unparse(value)


def test_number_arg():
    _check_arg(number_arg(), [("1", 1), ("2.3", 2.3), ("+inf.0", math.inf)],
               ["a"], [Symbol("a"), True])


def test_integer_arg():
    _check_arg(integer_arg(), [("1", 1)], ["a", "2.3", "+inf.0"],
               [Symbol("a"), True, 2.3, math.inf])


def test_real_arg():
    _check_arg(real_arg(), [("1", 1), ("2.3", 2.3), ("+inf.0", math.inf)],
               ["a"], [Symbol("a"), True])


def test_string_arg():
    _check_arg(string_arg(), [("1", "1"), ("foo", "foo"), ("/", "/")], [],
               [Symbol("a"), True, 5])


def test_symbol_arg():
    _check_arg(symbol_arg(), [("1", Symbol("1")), ("foo", Symbol("foo")), ("/", Symbol("/"))],
               [], ["a", True, 5])


def test_user_defined_const_arg():
    def const_arg(v):
        def check(x):
            if x != v:
                raise ValueError(x)
            return x
        return make_arg(check, check)

    _check_arg(const_arg("1"), [("1", "1")], ["2"], ["2"])


# --- syntax: methods ------------------------------------------------------------------

def test_methods():
    def get(req, i):
        return i + 1

    def post(req, i):
        return i - 1

    blog_dispatch, _, _ = dispatch_rules_applies(
        ((integer_arg(),), "get", get),
        ((integer_arg(),), "post", post),
        ((integer_arg(),), get))
    assert blog_dispatch(test_request("http://www.example.com/5", "get")) == 6
    assert blog_dispatch(test_request("http://www.example.com/6", "get")) == 7
    assert blog_dispatch(test_request("http://www.example.com/7", "post")) == 6
    assert blog_dispatch(test_request("http://www.example.com/8", "post")) == 7


# --- syntax: applies -------------------------------------------------------------------

def list_posts(req):
    return ("list-posts",)


def review_post(req, p):
    return ("review-post", p)


def review_archive(req, y, m):
    return ("review-archive", y, m)


BLOG_RULES = [
    (("",), list_posts),
    ((), list_posts),
    (("posts", string_arg()), review_post),
    (("archive", integer_arg(), integer_arg()), review_archive),
]


@pytest.mark.parametrize("url, applies", [
    ("http://www.example.com", True),
    ("http://www.example.com/", True),
    ("http://www.example.com/posts/hello-world", True),
    ("http://www.example.com/archive/2008/02", True),
    ("http://www.example.com/posts", False),
    ("http://www.example.com/archive/post/02", False),
    ("http://www.example.com/archive/2008/post", False),
    ("http://www.example.com/foo", False),
])
def test_applies(url, applies):
    _, _, blog_applies = dispatch_rules_applies(*BLOG_RULES)
    assert blog_applies(test_request(url)) is applies


# --- syntax: dispatch (rules and container) ------------------------------------------

def _blog_rules():
    return dispatch_rules(*BLOG_RULES)


def _blog_container():
    container, blog_dispatch, blog_url = define_container()
    for rule in BLOG_RULES:  # each added before the ones already there
        container.dispatch_rules(rule)
    return blog_dispatch, blog_url


@pytest.fixture(params=[_blog_rules, _blog_container], ids=["dispatch-rules", "container"])
def blog(request):
    return request.param()


@pytest.mark.parametrize("url, result", [
    ("http://www.example.com", ("list-posts",)),
    ("http://www.example.com/", ("list-posts",)),
    ("http://www.example.com/posts/hello-world", ("review-post", "hello-world")),
    ("http://www.example.com/archive/2008/02", ("review-archive", 2008, 2)),
])
def test_blog_dispatch(blog, url, result):
    blog_dispatch, _ = blog
    assert blog_dispatch(test_request(url)) == result


@pytest.mark.parametrize("url", [
    "http://www.example.com/posts", "http://www.example.com/archive/post/02",
    "http://www.example.com/archive/2008/post", "http://www.example.com/foo"])
def test_blog_dispatch_declines(blog, url):
    blog_dispatch, _ = blog
    with pytest.raises(DispatcherNotApplicable):
        blog_dispatch(test_request(url))


def test_blog_url(blog):
    _, blog_url = blog
    assert blog_url(list_posts) == "/"
    assert blog_url(review_post, "hello-world") == "/posts/hello-world"
    assert blog_url(review_archive, 2008, 2) == "/archive/2008/2"


@pytest.mark.parametrize("args", [
    (list_posts, 50), (max,), (review_post, 50), (review_post, "hello", "world"),
    (review_archive, 2008, 2, 1), (review_archive, "2008", 2), (review_archive, 2008, "02")])
def test_blog_url_errors(blog, args):
    _, blog_url = blog
    with pytest.raises(DispatchUrlError):
        blog_url(*args)


# --- rest args -------------------------------------------------------------------------

def sum_all(req, numbers):
    return sum(numbers)


@pytest.mark.parametrize("url, result", [
    ("http://www.sum.com", 0), ("http://www.sum.com/1", 1), ("http://www.sum.com/1/2", 3),
    ("http://www.sum.com/1/2/3", 6)])
def test_rest_dispatch(url, result):
    rest_dispatch, _ = dispatch_rules(((integer_arg(), ...), sum_all))
    assert rest_dispatch(test_request(url)) == result


@pytest.mark.parametrize("url", [
    "http://www.sum.com/1/2/3/bar", "http://www.sum.com/1/bar", "http://www.sum.com/bar"])
def test_rest_dispatch_declines(url):
    rest_dispatch, _ = dispatch_rules(((integer_arg(), ...), sum_all))
    with pytest.raises(DispatcherNotApplicable):
        rest_dispatch(test_request(url))


def test_rest_url():
    _, rest_url = dispatch_rules(((integer_arg(), ...), sum_all))
    assert rest_url(sum_all, []) == "/"
    assert rest_url(sum_all, [1]) == "/1"
    assert rest_url(sum_all, [1, 2]) == "/1/2"
    assert rest_url(sum_all, [1, 2, 3]) == "/1/2/3"
    for bad in ("foo", Symbol("bar"), 1, True):
        with pytest.raises(DispatchUrlError):
            rest_url(sum_all, bad)


def sum_and_strings(req, numbers, strings):
    return [sum(numbers), *strings]


@pytest.mark.parametrize("url, result", [
    ("http://www.sum.com", [0]), ("http://www.sum.com/1", [1]),
    ("http://www.sum.com/1/2", [3]), ("http://www.sum.com/1/2/3", [6]),
    ("http://www.sum.com/1/2/3/bar", [6, "bar"]), ("http://www.sum.com/1/bar", [1, "bar"]),
    ("http://www.sum.com/1/bar/zog", [1, "bar", "zog"]),
    ("http://www.sum.com/bar/zog", [0, "bar", "zog"])])
def test_rest_dispatch_two(url, result):
    rest_dispatch, _ = dispatch_rules(((integer_arg(), ..., string_arg(), ...),
                                       sum_and_strings))
    assert rest_dispatch(test_request(url)) == result


def test_rest_url_two():
    _, rest_url = dispatch_rules(((integer_arg(), ..., string_arg(), ...), sum_and_strings))
    assert rest_url(sum_and_strings, [], []) == "/"
    assert rest_url(sum_and_strings, [1], []) == "/1"
    assert rest_url(sum_and_strings, [1, 2], []) == "/1/2"
    assert rest_url(sum_and_strings, [1, 2, 3], []) == "/1/2/3"
    assert rest_url(sum_and_strings, [], ["bar"]) == "/bar"
    assert rest_url(sum_and_strings, [], ["bar", "zog"]) == "/bar/zog"
    assert rest_url(sum_and_strings, [1, 2], ["bar"]) == "/1/2/bar"
    for bad in ("foo", Symbol("bar"), 1, True):
        with pytest.raises(DispatchUrlError):
            rest_url(sum_and_strings, bad)
