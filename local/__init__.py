"""Local run of the API (`make run`): an API Gateway HTTP API stand-in in front of the real handler, with a Paddle
fake, a Cognito user pool (moto) and the demo page."""
