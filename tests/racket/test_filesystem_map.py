"""Racket's web-server-test/tests/web-server/dispatchers/filesystem-map-test.rkt, ported,
with the unit tests in filesystem-map.rkt's own ``module+ test``.

Racket maps into its web-server collection; here a temporary tree holds the same
files.  Racket's ``(values path pieces)`` is the tuple ``(path, pieces)``; Racket's
``exn:fail`` and ``exn:fail:filesystem:exists`` are :class:`PathEscape`.
"""
from __future__ import annotations

import os

import pytest

from dispatch.filesystem_map import (
    PathEscape,
    filter_url_to_path,
    make_url_to_path,
    make_url_to_valid_path,
)


@pytest.fixture
def base_dir(tmp_path):
    base = tmp_path / "web-server"
    (base / "dispatchers").mkdir(parents=True)
    (base / "dispatchers" / "filesystem-map.rkt").write_text("#lang racket/base\n")
    (base / "main.rkt").write_text("#lang racket/base\n")
    return str(base)


@pytest.fixture
def maps(base_dir):
    test_map = make_url_to_path(base_dir)
    test_valid_map = make_url_to_valid_path(test_map)
    return {
        "test-map": test_map,
        "test-valid-map": test_valid_map,
        "test-filter-map": filter_url_to_path(r"\.(ss|scm|rkt)$", test_map),
        "test-filter-valid-map": filter_url_to_path(r"\.(ss|scm|rkt)$", test_valid_map),
    }


def explode(path: str) -> list:
    return [p for p in path.split("/") if p]


def check_url_to_path(base_dir, url_to_path, file, url_string=None, expected=None):
    """Racket's ``test-url->path``: ``url_string`` defaults to http://test.com/FILE."""
    url_path = url_string if url_string is not None else "/" + file
    expected = expected if expected is not None else file
    assert url_to_path(url_path) == (os.path.join(base_dir, *explode(expected)),
                                     explode(expected))


# -- test-suite "url->path" ----------------------------------------------------------------

@pytest.mark.parametrize("name", ["test-map", "test-valid-map"])
def test_simple_case(base_dir, maps, name):
    # "Simple case" (url->path, and url->valid-path "Preserves url->path")
    check_url_to_path(base_dir, maps[name], "dispatchers/filesystem-map.rkt")


@pytest.mark.parametrize("name", ["test-map", "test-valid-map"])
def test_strips_parameters(base_dir, maps, name):
    # "Strips parameters": http://test.com/dispatchers/filesystem-map.rkt;foo
    check_url_to_path(base_dir, maps[name], "dispatchers/filesystem-map.rkt",
                      url_string="/dispatchers/filesystem-map.rkt;foo")


@pytest.mark.parametrize("name", ["test-map", "test-valid-map"])
def test_strips_out_bad_dotdots(maps, name):
    # "Strips out bad '..'s": http://test.com/../../dispatchers/filesystem-map.rkt
    with pytest.raises(PathEscape):
        maps[name]("/../../dispatchers/filesystem-map.rkt")


@pytest.mark.xfail(strict=True, reason="empty segments are dropped: Python paths have no "
                   "'same element, so '//' gives the pieces of '/'")
def test_handles_double_slash_okay(maps):
    # "Handles // okay": the pieces are (list 'same "dispatchers" "filesystem-map.rkt")
    assert maps["test-map"]("//dispatchers/filesystem-map.rkt")[1] == \
        [".", "dispatchers", "filesystem-map.rkt"]


def test_handles_double_slash_okay_as_this_project_does(base_dir, maps):
    # "Handles // okay", the mapping itself: the same file as one slash
    check_url_to_path(base_dir, maps["test-map"], "dispatchers/filesystem-map.rkt",
                      url_string="//dispatchers/filesystem-map.rkt")


@pytest.mark.xfail(strict=True, reason="a '..' that stays inside the root is resolved: the "
                   "path and pieces come back normalised (dispatchers/filesystem-map.rkt), "
                   "not as Racket's dispatchers/../dispatchers/filesystem-map.rkt")
@pytest.mark.parametrize("name", ["test-map", "test-valid-map"])
def test_leaves_in_good_dotdots(base_dir, maps, name):
    # "Leaves in good '..'s": Racket's exact path and pieces, the '..' kept
    file = "dispatchers/../dispatchers/filesystem-map.rkt"
    assert maps[name]("/" + file) == (os.path.join(base_dir, *file.split("/")),
                                      file.split("/"))


@pytest.mark.parametrize("name", ["test-map", "test-valid-map"])
def test_leaves_in_good_dotdots_resolved(base_dir, maps, name):
    # "Leaves in good '..'s": the URL maps (not refused), to the file the '..' names
    check_url_to_path(base_dir, maps[name], "dispatchers/filesystem-map.rkt",
                      url_string="/dispatchers/../dispatchers/filesystem-map.rkt")


# -- test-suite "url->valid-path" ----------------------------------------------------------

def test_finds_valid_path_underneath(base_dir, maps):
    # "Finds valid path underneath"
    check_url_to_path(base_dir, maps["test-valid-map"],
                      "dispatchers/filesystem-map.rkt/not-a-file",
                      expected="dispatchers/filesystem-map.rkt")


# -- test-suite "filter-url->path" ---------------------------------------------------------

@pytest.mark.parametrize("file", ["dispatchers/filesystem-map.rkt",
                                  "dispatchers/filesystem-map.scm"])
def test_allows_right_suffix(base_dir, maps, file):
    # "Allows right suffix" (twice)
    check_url_to_path(base_dir, maps["test-filter-map"], file)


@pytest.mark.parametrize("file", ["dispatchers/filesystem-map.gif",
                                  "dispatchers/filesystem-map.html"])
def test_disallows_wrong_suffix(base_dir, maps, file):
    # "Disallows wrong suffix" (twice): exn:fail:filesystem:exists?
    with pytest.raises(PathEscape):
        check_url_to_path(base_dir, maps["test-filter-map"], file)


def test_allows_content_after_with_valid(base_dir, maps):
    # "Allows content after w/ valid": the filter sees the mapped path, not the URL
    check_url_to_path(base_dir, maps["test-filter-valid-map"],
                      "dispatchers/filesystem-map.rkt/extra/info",
                      expected="dispatchers/filesystem-map.rkt")


def test_filter_takes_a_byte_regex(base_dir, maps):
    # Racket's #rx#"..." form of the same filter
    byte_filter = filter_url_to_path(rb"\.(ss|scm|rkt)$", maps["test-map"])
    check_url_to_path(base_dir, byte_filter, "dispatchers/filesystem-map.rkt")
    with pytest.raises(PathEscape):
        byte_filter("/dispatchers/filesystem-map.gif")
    with pytest.raises(TypeError):
        filter_url_to_path(42, maps["test-map"])


# -- filesystem-map.rkt's (module+ test) ---------------------------------------------------

def test_module_tests_of_make_url_to_path():
    url_to_path = make_url_to_path("/home/samth/tmp/")
    # http://localhost/..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2ffoo%2fbar (decoded by then)
    with pytest.raises(PathEscape):
        url_to_path("/../../../../../../../../foo/bar")
    with pytest.raises(PathEscape):
        url_to_path("/../x/y")
    assert url_to_path("/x/y")[0] == "/home/samth/tmp/x/y"
    assert os.path.normpath(url_to_path("/x/../y")[0]) == "/home/samth/tmp/y"
    assert url_to_path("/x/y")[1] == ["x", "y"]


@pytest.mark.parametrize("pieces, allowed", [
    ([], True), ([".."], False), (["."], True), ([".", ".."], False),
    (["foo", "..", "bar"], True), (["foo", "..", "..", "bar"], False),
    (["..", "bar"], False), (["foo", "bar", "..", "bar"], True),
    (["foo", "bar", "..", "..", "..", "bar"], False),
    (["foo", ".", "bar", "..", "..", "..", "bar"], False),
    (["foo", "", "bar", "..", "..", "..", "bar"], False),
    (["foo", "bar", "..", "bar", "."], True), (["foo", "bar", "..", "bar", ""], True),
])
def test_restrict(tmp_path, pieces, allowed):
    # filesystem-map.rkt's restrict cases, through make_url_to_path
    url_to_path = make_url_to_path(tmp_path)
    url = "/" + "/".join(pieces)
    if allowed:
        assert url_to_path(url)[0].startswith(str(tmp_path))
    else:
        with pytest.raises(PathEscape):
            url_to_path(url)
