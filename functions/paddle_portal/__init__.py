"""Mint authenticated links into Paddle's hosted customer portal from AWS Lambda."""

__version__ = "0.1.0"
