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

# isort: split
# Racket's request-structs header struct, response-structs accessors and digest-auth.
from dispatch.http.bindings import (
    binding_file_port_in,
    is_binding_file_port,
    make_binding_file_port,
    request_bindings_raw_promise,
)
from dispatch.http.digest_auth import (
    make_check_digest_credentials,
    make_digest_auth_header,
    password_to_digest_ha1,
    request_to_digest_credentials,
)
from dispatch.http.request import (
    Header,
    header_field,
    header_value,
    headers_assq,
    headers_assq_star,
    is_header,
    make_header,
)
from dispatch.http.response import (
    response_code,
    response_headers,
    response_message,
    response_mime,
    response_seconds,
)

# The rest of Racket's servlet surface (web-server/page, servlet/web-cells,
# servlet/servlet-structs, web-server/test, dispatch/extend, and Racket-spelled aliases).
from .dispatch_rules import (
    define_bidi_match_expander,
    define_coercion_match_expander,
    is_bidi_match_going_in,
    make_coerce_safe,
)
from .managers import (
    NoContinuation,
    NoInstance,
    exn_fail_servlet_manager_no_continuation,
    exn_fail_servlet_manager_no_instance,
)
from .page import (
    current_request,
    define_page,
    embed_url,
    get_binding,
    get_bindings,
    lambda_page,
    page,
)
from .servlet import serve_launch_wait
from .servlet_structs import any_to_response, can_be_response, set_any_to_response
from .templates import include_template_xml
from .testing import make_dispatcher_tester, make_servlet_tester
from .web import (
    is_continuation_url,
    send_suspend_url,
    send_suspend_url_dispatch,
    servlet_prompt,
)
from .web_cells import is_web_cell, make_web_cell, web_cell_ref, web_cell_shadow

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
__all__ += [
    # request-structs, response-structs, digest-auth
    "Header", "binding_file_port_in", "header_field", "header_value", "headers_assq",
    "headers_assq_star", "is_binding_file_port", "is_header", "make_binding_file_port",
    "make_header", "request_bindings_raw_promise", "response_code", "response_headers",
    "response_message", "response_mime", "response_seconds",
    "make_check_digest_credentials", "make_digest_auth_header", "password_to_digest_ha1",
    "request_to_digest_credentials",
    # web-server/page, servlet/web-cells, servlet/web, servlet/servlet-structs,
    # web-server/test, dispatch/extend, servlet-dispatch; Racket-spelled aliases
    "NoContinuation", "NoInstance", "any_to_response", "can_be_response",
    "current_request", "define_bidi_match_expander", "define_coercion_match_expander",
    "define_page", "embed_url", "exn_fail_servlet_manager_no_continuation",
    "exn_fail_servlet_manager_no_instance", "get_binding", "get_bindings",
    "include_template_xml", "is_bidi_match_going_in", "is_continuation_url",
    "is_web_cell", "lambda_page", "make_coerce_safe", "make_dispatcher_tester",
    "make_servlet_tester", "make_web_cell", "page", "send_suspend_url",
    "send_suspend_url_dispatch", "serve_launch_wait", "servlet_prompt",
    "set_any_to_response", "web_cell_ref", "web_cell_shadow",
]
