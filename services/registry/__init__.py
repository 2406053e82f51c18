"""Baiying registry service."""
