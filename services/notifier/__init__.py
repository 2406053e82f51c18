"""Baiying notifier service."""
