#lang racket/base
;; Racket peer for the side-by-side benchmark: the seed's page through Racket's own
;; web-server (sequencer -> filter -> dispatch/servlet, response/xexpr), and a WebSocket
;; echo on /ws when the rfc6455 package is installed (looked up at run time, so that the
;; page row runs without it).
;; usage: racket racket_peer.rkt PORT
(require racket/list
         (prefix-in sequencer: web-server/dispatchers/dispatch-sequencer)
         (prefix-in filter: web-server/dispatchers/dispatch-filter)
         web-server/web-server
         web-server/http/xexpr
         web-server/servlet-dispatch)

(define (start-page req)
  (response/xexpr
   `(html
     (head
      (meta ([http-equiv "content-type"] [content "text/html; charset=utf-8"]))
      (meta ([name "viewport"] [content "width=device-width"]))
      (title "Events test"))
     (body
      (h1 "Welcome to the Events test")
      (textarea ([readonly ""]))
      (script
       "
          var evtSource = new EventSource(\"/sse/\");
          var textArea = document.getElementsByTagName(\"textarea\")[0];

          evtSource.onmessage = function(e){
              textArea.value =  e.data + \"\\n\" + textArea.value ;
              console.log(e.data);
          }")))))

;; rfc6455's legacy dispatcher, if the package is there: an echo that keeps the payload type.
(define ws-dispatchers
  (with-handlers ([exn:fail? (lambda (e) '())])
    (define make-dispatcher
      (dynamic-require 'net/rfc6455/dispatcher 'make-general-websockets-dispatcher))
    (define ws-recv (dynamic-require 'net/rfc6455 'ws-recv))
    (define ws-send! (dynamic-require 'net/rfc6455 'ws-send!))
    (define (echo c state)
      (let loop ()
        (define m (ws-recv c #:payload-type 'auto))
        (unless (eof-object? m)
          (ws-send! c m #:payload-type (if (bytes? m) 'binary 'text))
          (loop))))
    (list (filter:make #rx"^/ws$" (make-dispatcher echo)))))

(define port (string->number (vector-ref (current-command-line-arguments) 0)))
(void
 (serve #:dispatch (apply sequencer:make
                          (append ws-dispatchers (list (dispatch/servlet start-page))))
        #:listen-ip "127.0.0.1"
        #:port port
        #:max-waiting 4096))
(printf "serving on 127.0.0.1:~a ws=~a\n" port (if (empty? ws-dispatchers) "no" "yes"))
(flush-output)
(semaphore-wait (make-semaphore 0))
