"""Sandbox settings (env BAIYING_SANDBOX_…) and the fixed development account it serves."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development account (baiying_shared.devsms): the notifier's default credentials.
from baiying_shared.devsms import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_SENDERS

__all__ = ["DEV_ACCOUNT_SID", "DEV_AUTH_TOKEN", "DEV_SENDERS"]

# Every number the dev account owns (a From outside it gets 21606); the first two also form
# the messaging service's pool.
DEV_NUMBERS = (*DEV_SENDERS, "+8610655590003", "+8610655590004")
DEV_MESSAGING_SERVICE_SID = "MG" + "ba1e0000de5a0d" + "0" * 17 + "1"
DEV_API_KEY_SID = "SK" + "ba1e0000de5a0d" + "0" * 17 + "1"
DEV_API_KEY_SECRET = "baiying-sandbox-dev-key-secret00"


class Behaviour(BaseModel):
    """What the simulated carrier does; changeable at runtime through the admin API."""

    mps: float = Field(0.0, ge=0, description="per-sender segments per second; 0 = unlimited")
    # A From number queues at most this many seconds of segments (Twilio: hours); a request's
    # ValidityPeriod shortens it. Over it: 21611 at create, or 30001 for a service's pool.
    queue_limit_s: float = Field(4 * 3600.0, gt=0)
    concurrency_limit: int = Field(0, ge=0, description="concurrent creates; over it 20429")
    schedule_min_lead_s: float = Field(900.0, ge=0, description="SendAt at least this far out")
    latency_ms: int = Field(0, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1, description="share of creates answered 500")
    failing_numbers: dict[str, int] = Field(default_factory=dict, description="To -> error code")
    # One signed callback per status in this list, as Twilio sends them. For benchmarks:
    # BAIYING_SANDBOX_CALLBACK_STATUSES='[]' turns them off, '["delivered","undelivered",
    # "failed"]' keeps final statuses only (bench/notify_fanout.py --callbacks none|final|all).
    callback_statuses: tuple[str, ...] = ("queued", "sent", "delivered", "undelivered", "failed")
    callback_delay_ms: int = Field(20, ge=0, description="sent -> delivered")
    handover_ms: int = Field(200, ge=0, description="sending -> sent (the carrier takes it)")
    # A stuck carrier route: these From numbers' queues take messages but do not drain.
    stalled_senders: tuple[str, ...] = ()
    # Twilio cancels only `scheduled` messages; some providers also withdraw one still
    # `queued` in a sender's queue. Off (as Twilio) unless a test asks.
    cancel_queued: bool = False
    inbound_url: str = "http://127.0.0.1:8003/v1/webhooks/twilio/inbound"


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BAIYING_SANDBOX_", env_file=".env", extra="ignore"
    )

    account_sid: str = DEV_ACCOUNT_SID
    auth_token: SecretStr = SecretStr(DEV_AUTH_TOKEN)
    # Numbers a MessagingServiceSid sends from, and that simulated phones reply to.
    service_numbers: tuple[str, ...] = DEV_SENDERS
    account_numbers: tuple[str, ...] = DEV_NUMBERS
    mps: float = 10.0
    queue_limit_s: float = 4 * 3600.0
    concurrency_limit: int = 0
    schedule_min_lead_s: float = 900.0
    api_key_sid: str = DEV_API_KEY_SID
    api_key_secret: SecretStr = SecretStr(DEV_API_KEY_SECRET)
    messaging_service_sid: str = DEV_MESSAGING_SERVICE_SID
    latency_ms: int = 0
    error_rate: float = 0.0
    failing_numbers: dict[str, int] = Field(default_factory=dict)
    callback_statuses: tuple[str, ...] = ("queued", "sent", "delivered", "undelivered", "failed")
    callback_delay_ms: int = 20
    handover_ms: int = 200
    stalled_senders: tuple[str, ...] = ()
    cancel_queued: bool = False
    inbound_url: str = "http://127.0.0.1:8003/v1/webhooks/twilio/inbound"
    callback_concurrency: int = 16
    log_level: str = "INFO"
    seed: int | None = None

    def behaviour(self) -> Behaviour:
        return Behaviour(
            mps=self.mps,
            queue_limit_s=self.queue_limit_s,
            concurrency_limit=self.concurrency_limit,
            schedule_min_lead_s=self.schedule_min_lead_s,
            latency_ms=self.latency_ms,
            error_rate=self.error_rate,
            failing_numbers=dict(self.failing_numbers),
            callback_statuses=self.callback_statuses,
            callback_delay_ms=self.callback_delay_ms,
            handover_ms=self.handover_ms,
            stalled_senders=self.stalled_senders,
            cancel_queued=self.cancel_queued,
            inbound_url=self.inbound_url,
        )
