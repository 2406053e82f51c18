"""What Twilio checks before it takes a message: credentials, then the create form's fields."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import Request

from baiying_sandbox.config import SandboxSettings

E164 = re.compile(r"^\+[1-9]\d{1,14}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
MAX_BODY = 1600
MAX_VALIDITY_S = 36000
MAX_SCHEDULE = timedelta(days=35)


class TwilioError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _basic(header: str) -> tuple[str, str]:
    if not header.startswith("Basic "):
        return "", ""
    try:
        user, _, password = base64.b64decode(header.removeprefix("Basic ")).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return user, password


def check_credentials(request: Request, account_sid: str | None) -> None:
    """HTTP Basic with the account SID + auth token, or an API key SID (SK…) + its secret."""
    check_authorization(
        request.app.state.settings, request.headers.get("authorization", ""), account_sid
    )


def check_authorization(settings: SandboxSettings, header: str, account_sid: str | None) -> None:
    """The Authorization header's check, for a Request or a raw ASGI scope alike."""
    user, password = _basic(header)
    pairs = (
        (settings.account_sid, settings.auth_token.get_secret_value()),
        (settings.api_key_sid, settings.api_key_secret.get_secret_value()),
    )
    good = any(  # compare every pair, so timing does not tell which part was wrong
        [secrets.compare_digest(user, u) & secrets.compare_digest(password, p) for u, p in pairs]
    )
    if not good or (account_sid is not None and account_sid != settings.account_sid):
        raise TwilioError(401, 20003, "Authenticate")


@dataclass(frozen=True)
class CreateForm:
    to: str
    body: str
    sender: str | None
    service: str | None
    callback: str | None
    validity_s: float | None
    send_at: datetime | None


def parse_create(form: dict[str, str], settings: SandboxSettings, min_lead_s: float) -> CreateForm:
    """The create form, or the TwilioError Twilio answers for its first bad field."""
    to, body = form.get("To", ""), form.get("Body", "")
    sender, service = form.get("From") or None, form.get("MessagingServiceSid") or None
    if not to:
        raise TwilioError(400, 21604, "A 'To' phone number is required.")
    if not sender and not service:
        raise TwilioError(
            400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message"
        )
    if not body:
        raise TwilioError(400, 21602, "Message body is required.")
    if not E164.match(to):
        raise TwilioError(400, 21211, f"The 'To' number {to} is not a valid phone number.")
    if len(body) > MAX_BODY:
        raise TwilioError(
            400, 21617, "The concatenated message body exceeds the 1600 character limit."
        )
    if service and not SERVICE_SID.match(service):
        raise TwilioError(400, 21659, f"The MessagingServiceSid {service} is not valid.")
    if service and service != settings.messaging_service_sid:
        raise TwilioError(404, 21701, f"The Messaging Service {service} does not exist")
    if sender and not service and sender not in settings.account_numbers:
        raise TwilioError(
            400,
            21606,
            f"The From phone number {sender} is not a valid, SMS-capable inbound "
            "phone number or short code for your account.",
        )
    return CreateForm(
        to,
        body,
        None if service else sender,
        service,
        form.get("StatusCallback") or None,
        _validity(form.get("ValidityPeriod")),
        _schedule(form, service, min_lead_s),
    )


def _validity(value: str | None) -> float | None:
    if value is None:
        return None
    if not value.isdigit() or not 1 <= int(value) <= MAX_VALIDITY_S:
        raise TwilioError(400, 21220, f"Invalid parameter ValidityPeriod: {value}")
    return float(value)


def _schedule(form: dict[str, str], service: str | None, min_lead_s: float) -> datetime | None:
    kind, when = form.get("ScheduleType"), form.get("SendAt")
    if kind is None and when is None:
        return None
    if kind != "fixed":
        raise TwilioError(400, 35111, f"Invalid ScheduleType: {kind}")
    if not service:
        raise TwilioError(400, 35118, "MessagingServiceSid is required to schedule a message")
    try:
        at = datetime.fromisoformat((when or "").replace("Z", "+00:00"))
    except ValueError as exc:
        text = f"Scheduling does not support this timestamp: {when}"
        raise TwilioError(400, 35114, text) from exc
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    lead = at - datetime.now(UTC)
    if lead < timedelta(seconds=min_lead_s) or lead > MAX_SCHEDULE:
        raise TwilioError(
            400, 35114, "SendAt must be at least 15 minutes and at most 35 days in the future"
        )
    return at
