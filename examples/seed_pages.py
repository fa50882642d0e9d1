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


WEBSOCKET_SCRIPT = """"use strict"
      var websocket_url;
      var textArea;
      var socket;

      websocket_url = 'ws://' + window.location.host + "/ws_test";
      textArea = document.getElementsByTagName("textarea")[0];

      socket = new  WebSocket(websocket_url);
      socket.onopen = function(){
\t  socket.send("Hello");
      }

      socket.addEventListener('message',
\t\t\t      function (event){
\t\t\t\t  var message = event.data;
\t\t\t\t  textArea.value = event.data + "\\n" + textArea.value;
\t\t\t      });
        """


def websocket_page():
    """The page of the seed's two HTTP + WebSocket programs."""
    return ("html",
            ("head",
             ("meta", [("http-equiv", "content-type"), ("content", "text/html; charset=utf-8")]),
             ("meta", [("name", "viewport"), ("content", "width=device-width")]),
             ("title", "Websocket test")),
            ("body",
             ("h1", "Welcome to the websockets test"),
             ("textarea", [("readonly", "")]),
             ("script", WEBSOCKET_SCRIPT)))
