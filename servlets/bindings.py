"""Racket's ``web-server/http/bindings``: re-exported from :mod:`dispatch.http.bindings`.

The HTTP layer lives below the dispatchers (``dispatch.http``), as in Racket; this module
keeps the servlet layer's import path.
"""
from dispatch.http.bindings import (
    Binding,
    BindingError,
    BindingFile,
    BindingForm,
    binding_file_port_in,
    bindings_assq,
    bindings_assq_all,
    exists_binding,
    extract_binding_single,
    extract_bindings,
    is_binding_file_port,
    make_binding_file_port,
    request_bindings,
    request_bindings_raw,
    request_bindings_raw_promise,
    request_headers,
)

__all__ = [
    "Binding", "BindingError", "BindingFile", "BindingForm", "bindings_assq",
    "bindings_assq_all", "exists_binding", "extract_binding_single", "extract_bindings",
    "request_bindings", "request_bindings_raw", "request_headers",
    "request_bindings_raw_promise", "is_binding_file_port", "binding_file_port_in",
    "make_binding_file_port",
]
