"""What a deploy runs against the new version before it takes traffic: the smoke check (`smoke.py`), run by
CodeDeploy's pre-traffic hook (`app.py`) and, after a stack's first deploy (which runs no hook), by CI."""
