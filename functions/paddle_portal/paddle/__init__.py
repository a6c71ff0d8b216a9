"""The Paddle Billing API client: requests, retries, typed errors and the checks on what Paddle answers.

Knows nothing of the function around it: it imports only `paddle_portal.deadline` (one time budget per request).
"""
