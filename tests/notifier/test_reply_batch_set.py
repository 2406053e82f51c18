"""The set-based reply batch (webhooks.act_many) commits what act() one by one would: the same
answers, replay guards, opt-outs, app-view answers and outbox events, in the same per-topic
order, for a batch with a duplicate MessageSid, a STOP, an unknown phone, a help text and two
replies from one phone."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from baiying_notifier.config import NotifierSettings
from baiying_notifier.webhooks import Inbound, act, act_many
from tests.notifier.harness import System, issued, system

Factory = Callable[..., NotifierSettings]
_ROLES = ("twice", "stop", "arrives", "help", "declines", "stood")


def _batch(run: str, world: str) -> tuple[list[Inbound], dict[str, str]]:
    """One world's texts (sorted as the group commit runs them) and phone -> role."""
    phones = {role: f"+8613720{world}{i:04d}" for i, role in enumerate(_ROLES)}
    phones["unknown"] = f"+8613720{world}9999"  # no call-out ever went to it

    def m(role: str, body: str, n: int) -> Inbound:
        return Inbound(sid=f"SM{run}{world}{n:02d}", phone=phones[role], body=body,
                       default_language="zh")

    texts = [m("twice", "1", 1), m("twice", "1", 1), m("twice", "2", 2), m("stop", "STOP", 3),
             m("unknown", "1", 4), m("arrives", "3", 5), m("help", "?", 6),
             m("declines", "2", 7), m("stood", "1", 8)]
    return sorted(texts, key=lambda t: (t.phone, t.sid)), {p: r for r, p in phones.items()}


async def _state(s: System, roles: dict[str, str], texts: list[Inbound]) -> dict[str, Any]:
    """What the batch committed, named by role (ids differ between the worlds)."""
    callouts = {r["callout_id"]: roles[r["phone"]] for r in await s.pool.fetch(
        "SELECT callout_id, phone FROM callouts WHERE phone = ANY($1::text[])", list(roles))}
    name = {**{str(k): v for k, v in callouts.items()}, **roles}
    events = await s.pool.fetch(
        "SELECT topic, key FROM outbox WHERE key = ANY($1::text[])"
        " AND topic NOT LIKE '%deliveries%' ORDER BY id", list(name))  # not the sends' statuses
    by_topic: dict[str, list[str]] = {}
    for e in events:
        by_topic.setdefault(e["topic"], []).append(name[e["key"]])
    return {
        "seen": await s.pool.fetchval(
            "SELECT count(*) FROM webhook_seen WHERE key = ANY($1::text[])",
            [f"inbound:{t.sid}" for t in texts]),
        "opt_outs": sorted((roles[r["phone"]], r["opted_out"]) for r in await s.pool.fetch(
            "SELECT phone, opted_out FROM opt_outs WHERE phone = ANY($1::text[])", list(roles))),
        "answers": sorted((callouts[r["callout_id"]], r["a"]) for r in await s.pool.fetch(
            "SELECT callout_id, alert->>'answer' AS a FROM callouts"
            " WHERE callout_id = ANY($1::uuid[])", list(callouts))),
        "events": by_topic,
    }


async def test_a_set_based_batch_commits_what_one_by_one_would(
    notifier_settings: Factory,
) -> None:
    async with system(notifier_settings) as s:
        run = uuid.uuid4().hex  # MessageSids sort alike in both worlds: one order of acting
        worlds = {w: _batch(run, w) for w in ("1", "2")}
        alerts = [issued(phone=p, language="en" if r == "stood" else "zh")
                  for _, roles in worlds.values() for p, r in roles.items() if r != "unknown"]
        await s.dispatcher.publish(*alerts)
        await s.wait_received([a.phone for a in alerts])
        await s.pool.execute(  # stood down: "1" finds nothing to accept; answered in English
            "UPDATE callouts SET state = 'stood_down' WHERE phone = ANY($1::text[])",
            [p for _, roles in worlds.values() for p, r in roles.items() if r == "stood"])

        batched, batched_roles = worlds["1"]
        async with s.pool.acquire() as conn, conn.transaction():
            batch_answers = await act_many(conn, batched)
        alone, alone_roles = worlds["2"]
        alone_answers = []
        for text in alone:
            async with s.pool.acquire() as conn, conn.transaction():
                alone_answers.append(await act(conn, text))

        async def by_role(texts: list[Inbound], roles: dict[str, str], answers: list[Any]
                          ) -> Any:
            """Each answer with its call-out's code named by role (codes differ by world)."""
            codes = {r["code"]: roles[r["phone"]] for r in await s.pool.fetch(
                "SELECT phone, code FROM callouts WHERE phone = ANY($1::text[])", list(roles))}

            def named(text: str) -> str:
                for code, role in codes.items():
                    text = text.replace(code, f"<{role}>")
                return text

            return [(roles[t.phone], t.body, tuple(map(named, a)))
                    for t, a in zip(texts, answers, strict=True)]

        batch_named = await by_role(batched, batched_roles, batch_answers)
        assert batch_named == await by_role(alone, alone_roles, alone_answers)
        said = {role: answer for role, _, answer in batch_named}
        assert said["stood"] != said["unknown"]  # "none", in the stood-down call-out's English
        assert sum(a == () for a in batch_answers) == 1  # the duplicate acted once
        batch_state = await _state(s, batched_roles, batched)
        assert batch_state == await _state(s, alone_roles, alone)
        assert batch_state["seen"] == len(batched) - 1
        assert batch_state["opt_outs"] == [("stop", True)]
        assert ("twice", "decline") in batch_state["answers"]  # the later reply wins
        assert [k for keys in batch_state["events"].values() for k in keys].count("twice") == 2
