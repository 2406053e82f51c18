"""Dispatcher knobs, read from the environment (BAIYING_DISPATCH_…)."""

from __future__ import annotations

from datetime import time

from pydantic import Field

from baiying_shared.devsms import DEV_SENDERS
from baiying_shared.settings import CommonSettings


class DispatcherSettings(CommonSettings):
    """Selection, escalation and stream settings of the dispatcher."""

    # Many volunteers will not answer in time, so each round calls need × this factor.
    dispatch_over_call_factor: float = Field(default=2.0, ge=1.0, le=10.0)
    dispatch_default_radius_m: int = Field(default=3000, ge=50, le=100_000)
    dispatch_max_radius_m: int = Field(default=50_000, ge=50)
    # An incident more than this far outside every district the desk holds is refused (422):
    # a mistyped coordinate or a click on the wrong county. The cells are approximate.
    dispatch_service_margin_m: int = Field(default=5000, ge=0, le=1_000_000)
    # Default escalation policy; an incident may bring its own.
    dispatch_rounds: int = Field(default=3, ge=1, le=10)
    dispatch_widening_factor: float = Field(default=2.0, ge=1.0, le=10.0)
    dispatch_round_wait_s: float = Field(default=120.0, ge=0.2, le=3600)
    # Shown only to those who accepted, with the exact address.
    dispatch_contact: str = "赣州市公安局指挥中心 0797-110"
    # Each district desk's callback number (district code → text), e.g.
    # BAIYING_DISPATCH_CALLBACKS='{"360702": "章贡分局值班室 0797-8123456"}'; else the above.
    dispatch_callbacks: dict[str, str] = Field(default_factory=dict)
    # How often the round timer looks for incidents whose wait is over.
    dispatch_tick_s: float = Field(default=1.0, gt=0, le=60)
    # Wall-clock zone for quiet hours and the daily alert cap.
    dispatch_timezone: str = "Asia/Shanghai"
    # Advisories reach everyone in the area; this bounds one notice's fan-out.
    dispatch_advisory_max: int = Field(default=200_000, ge=1)
    # 以案说防 campaigns (docs/campaigns.md). Senders and their rate are the notifier's own
    # variables (BAIYING_SMS_SENDERS, BAIYING_SENDER_MPS), so a dry run's carrier time is
    # what the notifier will pace; the link base is the notifier's public case page.
    sms_senders: tuple[str, ...] = DEV_SENDERS
    sender_mps: float = Field(default=10.0, gt=0)
    public_base_url: str = "http://127.0.0.1:8003"
    # How often this instance looks for due runs; 0 = never (another instance fires them).
    campaign_tick_s: float = Field(default=5.0, ge=0, le=600)
    # A due run found later than this (the service was down) is skipped, not sent late.
    campaign_stale_s: float = Field(default=3600.0, gt=0)
    # A message not sent this long after its run starts is dropped by the notifier.
    campaign_message_ttl_s: float = Field(default=6 * 3600.0, gt=0)
    # Residents' own quiet hours are not known here: no resident notice starts in this window
    # (local time), and one not sent by its start is dropped.
    campaign_resident_quiet_start: time = time(21, 0)
    campaign_resident_quiet_end: time = time(8, 0)
