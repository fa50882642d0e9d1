"""The pages of the seed's three programs, as x-expressions (shared by the examples).

Each is the seed's ``start-page`` x-expression, transcribed; the JavaScript is the seed's,
character for character.
"""

EVENTS_SCRIPT = """
          var evtSource = new EventSource("/sse/");
          var textArea = document.getElementsByTagName("textarea")[0];

          evtSource.onmessage = function(e){
              textArea.value =  e.data + "\\n" + textArea.value ;
              console.log(e.data);
          }"""


def events_page():
    """The page of the seed's HTTP + SSE program."""
    return ("html",
            ("head",
             ("meta", [("http-equiv", "content-type"), ("content", "text/html; charset=utf-8")]),
             ("meta", [("name", "viewport"), ("content", "width=device-width")]),
             ("title", "Events test")),
            ("body",
             ("h1", "Welcome to the Events test"),
             ("textarea", [("readonly", "")]),
             ("script", EVENTS_SCRIPT)))
