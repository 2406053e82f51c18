"""Baiying dispatcher service."""
