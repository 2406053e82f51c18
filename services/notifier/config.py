"""Notifier settings (env BAIYING_…)."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, model_validator

from baiying_shared.devsms import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_SENDERS
from baiying_shared.settings import CommonSettings


class NotifierSettings(CommonSettings):
    # With no real credentials the local SMS sandbox's fixed account is used.
    twilio_account_sid: str = DEV_ACCOUNT_SID
    twilio_auth_token: SecretStr = SecretStr(DEV_AUTH_TOKEN)
    twilio_api_base_url: str = "http://127.0.0.1:8010"
    twilio_timeout_s: float = 10.0
    sms_senders: tuple[str, ...] = DEV_SENDERS
    messaging_service_sid: str | None = None  # used when sms_senders is empty
    public_url: str = "http://127.0.0.1:8003"  # what Twilio calls back
    # Where campaign SMS links point: <public_base_url>/c/<token>, served by this notifier.
    public_base_url: str = "http://127.0.0.1:8003"
    sender_mps: float = 10.0  # segments a second per sender number (or the messaging service)
    # How far ahead of its rate a sender may run (seconds of segments): absorbs event-loop
    # jitter, and bounds what waits in the carrier's queue ahead of an urgent call-out.
    pacing_tolerance_s: float = 0.5
    # Advisories and campaigns run at most this far ahead (at most pacing_tolerance_s): all a
    # call-out raised during a 10,000-person advisory finds queued at the carrier ahead of it,
    # while call-outs themselves may use the whole pacing_tolerance_s.
    pacing_bulk_tolerance_s: float = 0.2
    # With several senders, the first keeps its advisories and campaigns at most this far
    # ahead (at most pacing_bulk_tolerance_s): a call-out goes to the shortest carrier queue,
    # so one sender's is always nearly drained for it; the others carry the bulk.
    pacing_express_tolerance_s: float = 0.1
    # Sender leases shared by all instances (leases.py): a dead holder's numbers move after this.
    # Not much shorter: an event loop busy with a large fan-out renews late, and a lease that
    # lapses locally stops that sender until the next renewal.
    sender_lease_ttl_s: float = 10.0
    # A message still queued at the carrier this long is cancelled and re-routed (0: never).
    stuck_after_s: float = 30.0
    # Send with ValidityPeriod = stuck_after_s, so the carrier drops a stuck one (stuck.py).
    sms_validity: bool = True
    # Concurrent requests at the provider (keep it under the account's concurrent-request
    # limit, 20429 above it): rate x request latency must fit, e.g. 300/s x 100-200 ms.
    sms_max_in_flight: int = 64
    retry_max_attempts: int = 6
    retry_base_s: float = 0.5
    retry_cap_s: float = 30.0
    # A claimed message with no provider id is looked up only after this long: it must
    # exceed the request timeout, so no request of ours is still in flight by then.
    claim_lease_s: float = 30.0
    reconcile_interval_s: float = 5.0
    # Twilio does not retry status callbacks: a submitted SMS with no final status after this
    # long (and again this long after each look) is fetched by SID. 0 turns the sweep off.
    status_sweep_after_s: float = 120.0
    status_sweep_max_age_s: float = 24 * 3600.0  # then give up: the carrier will not report
    status_sweep_batch: int = 200  # per reconcile pass, least recently looked at first
    default_language: Literal["zh", "en"] = "zh"
    status_callbacks: bool = True

    @model_validator(mode="after")
    def _check_twilio(self) -> NotifierSettings:
        if self.claim_lease_s <= self.twilio_timeout_s:
            raise ValueError("claim_lease_s must exceed twilio_timeout_s (see docs/notifier.md)")
        if self.status_sweep_after_s and self.status_sweep_max_age_s <= self.status_sweep_after_s:
            raise ValueError("status_sweep_max_age_s must exceed status_sweep_after_s")
        if not self.sms_senders and not self.messaging_service_sid:
            raise ValueError("set sms_senders or messaging_service_sid")
        if self.profile == "prod" and self.twilio_auth_token.get_secret_value() == DEV_AUTH_TOKEN:
            raise ValueError("BAIYING_TWILIO_AUTH_TOKEN is the sandbox's dev token in prod")
        return self
