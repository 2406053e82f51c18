"""Sandbox settings (env BAIYING_SANDBOX_…) and the fixed development account it serves."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# The notifier falls back to this account when no real Twilio credentials are set,
# so a fresh checkout sends to the sandbox with zero configuration.
DEV_ACCOUNT_SID = "AC" + "baiyingdevsandbox".ljust(32, "0")
DEV_AUTH_TOKEN = "baiying-sandbox-dev-auth-token00"
DEV_SENDERS = ("+8610655590001", "+8610655590002")


class Behaviour(BaseModel):
    """What the simulated carrier does; changeable at runtime through the admin API."""

    mps: float = Field(0.0, ge=0, description="per-sender messages per second; 0 = unlimited")
    latency_ms: int = Field(0, ge=0)
    error_rate: float = Field(0.0, ge=0, le=1, description="share of creates answered 500")
    failing_numbers: dict[str, int] = Field(default_factory=dict, description="To -> error code")
    callback_statuses: tuple[str, ...] = ("queued", "sent", "delivered")
    callback_delay_ms: int = Field(20, ge=0)
    inbound_url: str = "http://127.0.0.1:8003/v1/webhooks/twilio/inbound"


class SandboxSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BAIYING_SANDBOX_", env_file=".env", extra="ignore"
    )

    account_sid: str = DEV_ACCOUNT_SID
    auth_token: SecretStr = SecretStr(DEV_AUTH_TOKEN)
    # Numbers a MessagingServiceSid sends from, and that simulated phones reply to.
    service_numbers: tuple[str, ...] = DEV_SENDERS
    mps: float = 10.0
    latency_ms: int = 0
    error_rate: float = 0.0
    failing_numbers: dict[str, int] = Field(default_factory=dict)
    callback_statuses: tuple[str, ...] = ("queued", "sent", "delivered")
    callback_delay_ms: int = 20
    inbound_url: str = "http://127.0.0.1:8003/v1/webhooks/twilio/inbound"
    callback_concurrency: int = 16
    log_level: str = "INFO"
    seed: int | None = None

    def behaviour(self) -> Behaviour:
        return Behaviour(
            mps=self.mps,
            latency_ms=self.latency_ms,
            error_rate=self.error_rate,
            failing_numbers=dict(self.failing_numbers),
            callback_statuses=self.callback_statuses,
            callback_delay_ms=self.callback_delay_ms,
            inbound_url=self.inbound_url,
        )
