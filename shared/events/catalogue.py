"""Every topic Baiying uses, created by the project at start-up — never by hand."""

from __future__ import annotations

from dataclasses import dataclass

from baiying_shared.events import (
    callouts,
    campaigns,
    contacts,
    deliveries,
    replies,
    revocations,
    teams,
    volunteers,
)

DAY_MS = 24 * 3600 * 1000
# Outbox lanes (baiying_shared.db.outbox): each has its own publisher, in id order, so urgent
# rows never wait behind bulk ones. A topic's rows all go in its lane, so per-key order holds.
URGENT, BULK = 0, 1
LANES = (URGENT, BULK)
# Delivery statuses of bulk messages (advisories): same DeliveryStatusChanged events as
# notify.deliveries.v1, on a topic of their own so a call-out's status never queues behind them.
DELIVERIES_BULK = "notify.deliveries.bulk.v1"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    key: str
    producer: str
    consumers: tuple[str, ...]
    compacted: bool = False
    retention_ms: int = 7 * DAY_MS
    lane: int = URGENT

    def config(self) -> dict[str, str]:
        if self.compacted:
            # Compaction keeps the last snapshot per key forever; tombstones linger a day
            # so a slow consumer still sees deletes.
            return {
                "cleanup.policy": "compact",
                "delete.retention.ms": str(DAY_MS),
                "min.compaction.lag.ms": "0",
            }
        return {"cleanup.policy": "delete", "retention.ms": str(self.retention_ms)}


DEAD_LETTER = "baiying.deadletter.v1"

TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(
        volunteers.TOPIC, 6, "volunteer_id", "registry", ("dispatcher", "notifier"), compacted=True
    ),
    # No consumer yet: the dispatcher reads team type from each volunteer's snapshot.
    TopicSpec(teams.TOPIC, 3, "team_id", "registry", (), compacted=True),
    TopicSpec(callouts.TOPIC, 12, "volunteer_id", "dispatcher", ("notifier",)),
    # Advisories' call-outs and their statuses: the same events in a lane and topics of their
    # own, read by consumers of their own (docs/architecture.md, "Lanes").
    TopicSpec(callouts.BULK_TOPIC, 12, "volunteer_id", "dispatcher", ("notifier",), lane=BULK),
    TopicSpec(deliveries.TOPIC, 6, "callout_id", "notifier", ("dispatcher",)),
    TopicSpec(DELIVERIES_BULK, 6, "callout_id", "notifier", ("dispatcher",), lane=BULK),
    TopicSpec(replies.TOPIC, 6, "callout_id", "notifier", ("dispatcher",)),
    TopicSpec(contacts.TOPIC, 3, "phone", "notifier", ("registry",)),
    TopicSpec(campaigns.TOPIC, 6, "message_id | run_id", "dispatcher", ("notifier",), lane=BULK),
    TopicSpec(campaigns.REACH_TOPIC, 6, "campaign_id", "notifier", ("dispatcher",), lane=BULK),
    # Every process reads all of it (own group each), so one partition; kept past any token's
    # life (oidc_revocations.MAX_SESSION_S), so a process started late still learns them all.
    TopicSpec(
        revocations.TOPIC, 1, "sub", "any service", ("every process",), retention_ms=31 * DAY_MS
    ),
    TopicSpec(
        DEAD_LETTER, 3, "original key", "any consumer", ("operators",), retention_ms=30 * DAY_MS
    ),
)


_LANE = {t.name: t.lane for t in TOPICS}


def lane_of(topic: str) -> int:
    """The outbox lane of a topic (unprefixed name); topics not listed here are urgent."""
    return _LANE.get(topic, URGENT)
