"""The notifier's consumers: dispatch.callouts.v1 as group "notifier", a poll at a time;
advisories' call-outs (dispatch.callouts.bulk.v1) apart, so a call-out never waits behind them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TypedDict

from baiying_notifier import intake
from baiying_notifier.campaigns import intake as campaign_intake
from baiying_notifier.config import NotifierSettings
from baiying_notifier.signin import roster
from baiying_shared.events import callouts, campaigns, volunteers
from baiying_shared.kafka.consumer import EventConsumer, Message
from baiying_shared.runtime import Runtime

GROUP = "notifier"


class _Options(TypedDict, total=False):
    """EventConsumer settings a topic's consumer takes other than the defaults."""

    concurrency: int
    max_records: int


# The notifier's one handler map, batch variant: topic -> handler(pool, envelopes of a poll).
# Per payload class the batch is split again in intake.HANDLERS. (`...`: the campaign intake
# also takes base_url=, see _bind.)
BATCH_HANDLERS: dict[str, Callable[..., Awaitable[None]]] = {
    callouts.TOPIC: intake.on_urgent_batch,  # on connections of its own when free (app.py)
    callouts.BULK_TOPIC: intake.on_batch,  # the same intake, its own group, task and pool
    campaigns.TOPIC: campaign_intake.on_batch,  # bound with the link base URL (_bind)
    volunteers.TOPIC: roster.on_batch,
}
# Call-out intake keeps a group of its own: a campaign or roster consumer joining or leaving
# rebalances only its group, never pausing call-outs.
# Advisories' call-outs likewise: an urgent call-out is never in the same fetch or batch as
# theirs, and their rebalances never pause it.
GROUPS = {
    campaigns.TOPIC: "notifier-campaigns",
    volunteers.TOPIC: "notifier-volunteers",
    callouts.BULK_TOPIC: "notifier-bulk",
}
# Bulk intake holds at most two pool connections at a time, leaving the rest to call-outs,
# the senders and the webhooks, in polls of 100 (each rendered without a pause of the event
# loop); the senders' pace, not intake, sets an advisory's speed.
OPTIONS: dict[str, _Options] = {callouts.BULK_TOPIC: {"concurrency": 2, "max_records": 100}}


def _bind(rt: Runtime, topic: str) -> Callable[[list[Message]], Awaitable[None]]:
    settings = rt.settings
    assert isinstance(settings, NotifierSettings)
    if topic == campaigns.TOPIC:  # campaign SMS carry <public_base_url>/c/<token>
        return partial(BATCH_HANDLERS[topic], rt.pool, base_url=settings.public_base_url)
    return partial(BATCH_HANDLERS[topic], rt.pool)


def make_consumers(rt: Runtime) -> list[EventConsumer]:
    """One consumer per topic in BATCH_HANDLERS, as group "notifier" unless GROUPS says."""
    return [
        EventConsumer(
            settings=rt.settings,
            group_id=GROUPS.get(topic, GROUP),
            topics=[topic],
            handle_batch=_bind(rt, topic),
            dead_letters=rt.producer,
            **OPTIONS.get(topic, {}),
        )
        for topic in BATCH_HANDLERS
    ]
