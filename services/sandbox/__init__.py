"""Baiying sandbox service."""
