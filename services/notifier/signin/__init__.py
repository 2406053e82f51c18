"""Volunteer sign-in by phone number and a six-digit SMS code (docs/auth.md)."""
