"""A notifier process for the kill test: the real app under uvicorn, optionally SIGKILLing itself.

`kill_after=N` makes it die by SIGKILL right after the provider accepted its N-th message —
the answer (the SID) in hand but not yet written down, with other sends still in flight.
"""

from __future__ import annotations

import os
import signal
import sys

import uvicorn

from baiying_notifier.app import create_app, twilio_gateway
from baiying_notifier.config import NotifierSettings
from baiying_notifier.gateway import Capabilities, OutboundSms, SentMessage, SmsGateway, Submitted


class DiesAfter:
    """Gateway decorator that kills the process once `limit` sends were accepted."""

    def __init__(self, inner: SmsGateway, limit: int) -> None:
        self._inner, self._limit, self._sent = inner, limit, 0
        self.capabilities: Capabilities = inner.capabilities

    async def send(self, sms: OutboundSms) -> Submitted:
        result = await self._inner.send(sms)
        self._sent += 1
        if self._limit and self._sent >= self._limit:
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    async def recent_to(self, *, to: str, since: object) -> list[SentMessage]:
        return await self._inner.recent_to(to=to, since=since)  # type: ignore[arg-type]

    async def fetch(self, sid: str) -> SentMessage:
        return await self._inner.fetch(sid)

    async def close(self) -> None:
        await self._inner.close()


def main(port: int, kill_after: int) -> None:
    settings = NotifierSettings()
    app = create_app(settings, gateway_factory=lambda s: DiesAfter(twilio_gateway(s), kill_after))
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_config=None, lifespan="on", log_level="warning"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
