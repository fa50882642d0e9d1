"""Racket-spelled aliases of names that have a Python twin under another name: the very
same objects, so that code written with either spelling catches the other's."""
from __future__ import annotations

import pytest

import servlets
from dispatch.core import DispatcherNotApplicable, exn_dispatcher, next_dispatcher
from servlets.dispatch_rules import define_bidi_match_expander, make_arg
from servlets.managers import (
    NoContinuation,
    NoInstance,
    exn_fail_servlet_manager_no_continuation,
    exn_fail_servlet_manager_no_instance,
    make_none_manager,
)
from servlets.stateful import is_continuation_url as stateful_is_continuation_url
from servlets.web import is_continuation_url


def test_exn_dispatcher_is_what_next_dispatcher_raises():
    assert exn_dispatcher is DispatcherNotApplicable
    with pytest.raises(exn_dispatcher):
        next_dispatcher()


def test_servlet_manager_exceptions():
    assert exn_fail_servlet_manager_no_instance is NoInstance
    assert exn_fail_servlet_manager_no_continuation is NoContinuation
    manager = make_none_manager(None)
    with pytest.raises(exn_fail_servlet_manager_no_instance):
        manager.continuation_lookup("x" * 22, 1, "y" * 22)


def test_the_other_aliases():
    assert define_bidi_match_expander is make_arg
    assert is_continuation_url is stateful_is_continuation_url


def test_every_exported_name_exists():
    missing = [name for name in servlets.__all__ if not hasattr(servlets, name)]
    assert missing == [] and len(servlets.__all__) == len(set(servlets.__all__))
