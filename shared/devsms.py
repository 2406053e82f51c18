"""The development SMS account, shared by the notifier (its default credentials) and the local
SMS sandbox (the account it serves), so a fresh checkout sends to the sandbox with zero
configuration and the production notifier never imports the sandbox package.

32 hex digits after the prefix, as Twilio's SIDs (and the OpenAPI pattern) have them.
"""

from __future__ import annotations

DEV_ACCOUNT_SID = "AC" + "ba1e0000de5a0d" + "0" * 18
DEV_AUTH_TOKEN = "baiying-sandbox-dev-auth-token00"
DEV_SENDERS = ("+8610655590001", "+8610655590002")
