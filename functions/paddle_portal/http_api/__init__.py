"""The HTTP adapter: API Gateway (HTTP API 2.0, REST API 1.0) and Function URL events in, HTTP answers out.

`routes` holds the one route table and the one place where failures become answers; the rest serves it: event
readers (`events`, `rest_events`), the caller's credential (`auth`), the request's input (`inputs`, `bodies`), one
handler per operation (`handlers`) and the answers' shapes (`responses`). Nothing outside this folder but the entry
point (`app.py`) imports it, and it never imports the Paddle client.
"""
