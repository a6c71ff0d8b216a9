"""Paddle's ids and the portal's actions as this function accepts them: one definition for every check."""

from __future__ import annotations

import re
from typing import Literal

# ASCII-only classes: `\d` would also accept other scripts' digits.
CUSTOMER_ID_PATTERN = r"^ctm_[a-z0-9]{26}$"
SUBSCRIPTION_ID_PATTERN = r"^sub_[a-z0-9]{26}$"
CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)
SUBSCRIPTION_ID = re.compile(SUBSCRIPTION_ID_PATTERN)

# What a portal link opens: the overview, or one subscription's deep link.
Action = Literal["overview", "cancel_subscription", "update_subscription_payment_method"]
