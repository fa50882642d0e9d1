"""Servlets: requests, responses and the servlet adapter (Racket's ``web-server/http``
and ``web-server/servlet-dispatch``)."""
from dispatch.http.request import Request
from dispatch.http.response import (
    APPLICATION_JSON_MIME_TYPE,
    TEXT_HTML_MIME_TYPE,
    Response,
    permanently,
    redirect_to,
    redirection_status,
    response_empty,
    response_full,
    response_jsexpr,
    response_output,
    response_xexpr,
    see_other,
    temporarily,
    temporarily_same_method,
)
from dispatch.http.xexpr import PI, CData, Comment, InvalidXexpr, xexpr_to_string

from .servlet import dispatch_servlet

# isort: split
# The servlet layer (Racket's web-server/servlet-env, dispatch, http/bindings, cookies,
# basic-auth, templates).
from dispatch.http.basic_auth import make_basic_auth_header, request_to_basic_credentials
from dispatch.http.bindings import (
    BindingError,
    BindingFile,
    BindingForm,
    bindings_assq,
    bindings_assq_all,
    exists_binding,
    extract_binding_single,
    extract_bindings,
    request_bindings,
    request_bindings_raw,
)
from dispatch.http.cookies import (
    ClientCookie,
    Cookie,
    cookie_to_header,
    make_cookie,
    request_cookies,
)
from dispatch.http.id_cookie import (
    logout_id_cookie,
    make_id_cookie,
    make_secret_salt_file,
    request_id_cookie,
    valid_id_cookie,
)

from .csrf import (
    CsrfError,
    check_csrf,
    csrf_cookie,
    csrf_field,
    csrf_formlet,
    csrf_protect,
    csrf_token,
    valid_csrf_token,
)
from .dispatch_rules import (
    Arg,
    DispatchUrlError,
    Symbol,
    define_container,
    dispatch_case,
    dispatch_rules,
    dispatch_rules_applies,
    dispatch_url,
    integer_arg,
    make_arg,
    number_arg,
    real_arg,
    serve_dispatch,
    string_arg,
    symbol_arg,
    ws_dispatch_rules,
)
from .managers import make_none_manager, make_threshold_lru_manager, make_timeout_manager
from .templates import include_template, response_template
from .web import (
    adjust_timeout,
    clear_continuation_table,
    current_servlet_continuation_expiration_handler,
    redirect_get,
    redirect_get_forget,
    send_back,
    send_finish,
    send_forward,
    send_suspend,
    send_suspend_dispatch,
    send_suspend_until_valid,
    with_errors_to_browser,
)

_LAZY = {"serve_servlet", "serve_servlet_dispatcher", "mount"}


def __getattr__(name):
    # servlet_env pulls in the server: loaded on first use, not with every import.
    if name in _LAZY:
        from . import servlet_env as module

        return getattr(module, name)
    raise AttributeError(f"module 'servlets' has no attribute {name!r}")


def __dir__():
    # The lazy names too: dir(servlets) and completion show serve_servlet and mount.
    return sorted(set(globals()) | _LAZY)

__all__ = [
    "APPLICATION_JSON_MIME_TYPE", "CData", "Comment", "InvalidXexpr", "PI", "Request",
    "Response", "TEXT_HTML_MIME_TYPE",
    "dispatch_servlet", "permanently", "redirect_to", "redirection_status", "response_empty",
    "response_full", "response_jsexpr", "response_output", "response_xexpr", "see_other",
    "temporarily", "temporarily_same_method", "xexpr_to_string",
    # servlet layer
    "Arg", "BindingError", "BindingFile", "BindingForm", "ClientCookie", "Cookie",
    "DispatchUrlError", "Symbol", "bindings_assq", "bindings_assq_all",
    "cookie_to_header", "define_container", "dispatch_case", "dispatch_rules",
    "dispatch_rules_applies", "dispatch_url", "exists_binding", "extract_binding_single",
    "extract_bindings", "include_template", "integer_arg", "logout_id_cookie",
    "make_arg", "make_basic_auth_header", "make_cookie", "make_id_cookie",
    "make_secret_salt_file", "mount", "number_arg", "real_arg", "request_bindings",
    "request_bindings_raw", "request_cookies", "request_id_cookie",
    "request_to_basic_credentials", "serve_dispatch", "serve_servlet",
    "serve_servlet_dispatcher", "string_arg", "symbol_arg", "valid_id_cookie",
    "ws_dispatch_rules",
    # stateful servlets (web-server/servlet/web, web-server/managers/*)
    "adjust_timeout", "clear_continuation_table",
    "current_servlet_continuation_expiration_handler", "make_none_manager",
    "make_threshold_lru_manager", "make_timeout_manager", "redirect_get",
    "redirect_get_forget", "send_back", "send_finish", "send_forward", "send_suspend",
    "send_suspend_dispatch", "with_errors_to_browser",
    # cross-site request forgery (not in Racket)
    "CsrfError", "check_csrf", "csrf_cookie", "csrf_field", "csrf_formlet", "csrf_protect",
    "csrf_token", "valid_csrf_token",
    # templates: a response from a rendered template (not in Racket)
    "response_template",
    # asking again after a validation error (not in Racket)
    "send_suspend_until_valid",
]
