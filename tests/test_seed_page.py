"""The seed SSE example's page, ported, is the page Racket's response/xexpr serves."""
import os
import sys
from html.parser import HTMLParser

import requests

from dispatch import filter, sequencer
from servlets import dispatch_servlet, response_xexpr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples"))
from seed_pages import EVENTS_SCRIPT, events_page  # noqa: E402

# What Racket's xexpr->string writes for the seed's start-page: HTML's empty tags
# (meta) in shorthand, everything else with an end tag, attributes in order.
RACKET_PAGE = (
    '<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8" />'
    '<meta name="viewport" content="width=device-width" /><title>Events test</title></head>'
    '<body><h1>Welcome to the Events test</h1><textarea readonly=""></textarea>'
    "<script>" + EVENTS_SCRIPT + "</script></body></html>"
)


class Shape(HTMLParser):
    def __init__(self):
        super().__init__()
        self.events = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, attrs))

    def handle_endtag(self, tag):
        self.events.append(("end", tag))

    def handle_data(self, data):
        self.events.append(("data", data))


def shape(html):
    parser = Shape()
    parser.feed(html)
    return parser.events


def test_the_seed_script_is_the_seed_text():
    seed = open(os.path.join(os.path.dirname(__file__), "..", "..", "shared", "seed",
                             "racket-http-sse-websockets-same-port.txt")).read()
    racket_literal = EVENTS_SCRIPT.replace("\\", "\\\\").replace('"', '\\"')
    assert racket_literal in seed


def test_seed_page_over_a_real_socket(served):
    start_page = lambda req: response_xexpr(events_page())  # noqa: E731
    base = served(sequencer.make(filter.make("^/sse/", dispatch_servlet(start_page)),
                                 dispatch_servlet(start_page)))
    response = requests.get(base + "/", timeout=5)
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.text == RACKET_PAGE
    assert shape(response.text) == shape(RACKET_PAGE)
    script = [e for e in shape(response.text) if e[0] == "data"][-1][1]
    assert 'new EventSource("/sse/")' in script
