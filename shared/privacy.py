"""Phone masking: numbers appear whole only in the registry's own volunteer record."""

from __future__ import annotations

import re

# E.164 numbers and bare mainland mobiles, not digits inside ids, dates or other words.
_PHONE = re.compile(r"(?<![\w+])(\+\d{8,15}|1[3-9]\d{9})(?!\w)")


def mask_phone(phone: str) -> str:
    """+8613812345678 -> +86 138****5678; keeps enough to recognise, not to dial."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return "****"
    if phone.startswith("+86") or (digits.startswith("86") and len(digits) == 13):
        local = digits[2:]
        return f"+86 {local[:3]}****{local[-4:]}"
    prefix = "+" if phone.startswith("+") else ""
    return f"{prefix}{digits[:3]}****{digits[-4:]}"


def mask_phones_in_text(text: str) -> str:
    """Mask every phone-looking run of digits inside free text (log messages, errors)."""
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)
