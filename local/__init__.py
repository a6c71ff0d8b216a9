"""Local run of the API (`make run`): an API Gateway HTTP API stand-in and a Paddle fake, stdlib only."""
