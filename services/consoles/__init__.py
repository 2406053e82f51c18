"""Duty desk and supervisor dashboard: static pages the dispatcher serves (`router()`)."""

from baiying_consoles.web import router

__all__ = ["router"]
