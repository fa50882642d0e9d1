"""The servlet guide's wizard (``docs/servlet-guide.rst``): a stateful servlet that asks
two questions on two pages, asks again after a wrong answer, then shows a summary with a
link to change the name and a button to confirm.

    python examples/guide_servlets/wizard.py [--port 8000] [--no-web-browser]

It serves at ``/wizard``.  SIGTERM or Ctrl-C stops it.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from servlets import (  # noqa: E402
    extract_binding_single,
    redirect_get,
    request_bindings,
    response_xexpr,
    send_finish,
    send_suspend,
    send_suspend_dispatch,
    serve_servlet,
)

SIGNED_UP: list = []   # a real site: a database


def page(title, *body):
    return response_xexpr(("html", ("head", ("title", title)),
                           ("body", ("h1", title), *body)))


def question_page(question, error):
    def response_generator(k_url):
        return page(question, ("p", [("class", "error")], error) if error else "",
                    ("form", [("method", "post"), ("action", k_url)],
                     ("input", [("name", "answer")]), ("input", [("type", "submit")])))

    return response_generator


def ask(question, parse):
    """Send a form with ``question``, wait for the answer, and ask again until
    ``parse`` takes it (``parse`` raises ValueError with a message for the user)."""
    error = None
    while True:
        req = send_suspend(question_page(question, error))
        answer = extract_binding_single("answer", request_bindings(req))
        redirect_get()       # the answer came by POST: the next page sits at a GET URL
        try:
            return parse(answer)
        except ValueError as exc:
            error = str(exc)


def parse_name(text):
    if not text.strip():
        raise ValueError("Please type a name.")
    return text.strip()


def parse_age(text):
    try:
        age = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number.") from None
    if not 0 < age < 150:
        raise ValueError("An age between 1 and 149, please.")
    return age


def start(req):
    name = ask("What is your name?", parse_name)
    age = ask("How old are you?", parse_age)
    return summary(name, age)


def summary(name, age):
    def response_generator(embed_url):
        return page("Please check",
                    ("p", f"{name}, {age}"),
                    ("p", ("a", [("href", embed_url(change_name))], "Change the name")),
                    ("form", [("method", "post"), ("action", embed_url(confirm))],
                     ("input", [("type", "submit"), ("value", "Confirm")])))

    def change_name(req):
        return summary(ask("What is your name?", parse_name), age)

    def confirm(req):
        SIGNED_UP.append((name, age))
        send_finish(page("Thank you", ("p", f"{len(SIGNED_UP)} signed up so far.")))

    return send_suspend_dispatch(response_generator)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-web-browser", action="store_true")
    parser.add_argument("--reload", action="store_true", help="restart when a source file changes")
    args = parser.parse_args()
    serve_servlet(start, port=args.port, servlet_path="/wizard", quit=False,
                  launch_browser=not args.no_web_browser, reload=args.reload)
