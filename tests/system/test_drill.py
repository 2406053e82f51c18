"""`baiying drill` plays a whole mobilisation against the running system."""

from __future__ import annotations

import random

from baiying_cli.drill import INCIDENT, run_drill
from baiying_cli.drill_plan import classify, code_of, decide
from tests.support import eventually
from tests.system.harness import System


def test_messages_are_classified_and_codes_read() -> None:
    alert = "【一呼百应】紧急召集：盗窃，章贡区附近，距您约300米。回复1接受，2拒绝。编号QT3U"
    assert classify(alert) == "alert" and code_of(alert) == "QT3U"
    assert classify("[Baiying] Alert: x. Reply 1 to accept, 2 to decline. Ref AB12") == "alert"
    assert classify("【一呼百应】感谢接受！x，地址：y。到达后回复3。编号QT3U") == "confirmation"
    assert classify("【一呼百应】x：人员已满足，无需前往，感谢您的支持！编号MUK7") == "other"


def test_first_round_mostly_says_no_later_rounds_mostly_yes() -> None:
    rng = random.Random(1)
    first = [decide(rng, round_no=1, code="X").action for _ in range(2000)]
    later = [decide(rng, round_no=2, code="X").action for _ in range(2000)]
    assert first.count("accept") < 0.25 * 2000 < later.count("accept")
    answer = next(a for a in (decide(rng, round_no=2, code="Q1") for _ in range(50)) if a.reply)
    assert answer.reply is not None and answer.reply.endswith(" Q1") and answer.delay_s > 0


async def test_drill_runs_a_mobilisation_to_the_end(system: System) -> None:
    here = (INCIDENT["location"]["lat"], INCIDENT["location"]["lon"])
    people = [
        *await system.add_people(8, near=here, team_type="patrol", step_deg=0.002),
        *await system.add_people(6, near=here, team_type="information_officer", step_deg=0.0025),
    ]
    await eventually(lambda: system.indexed(len(people)), timeout=30, what="people indexed")
    final, replies = await run_drill(
        dispatcher=system.dispatcher_url, sandbox=system.sandbox_url, seed=7,
        limit_s=90, wait_s=3, pace=0.25,
    )
    assert final["status"] in ("staffed", "unmet"), final
    assert final["called"] >= 6 and replies >= 1
    assert final["round"] >= 1 and final["radius_m"] >= INCIDENT["radius_m"]
    # The numbers add up: staffed exactly when every slot is filled, and no more than asked.
    cover = final["coverage"]
    assert cover["complete"] is (final["status"] == "staffed")
    assert cover["filled"] + sum(cover["missing"].values()) == cover["required"] == 3
