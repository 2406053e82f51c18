"""Phone masking in values and in free text."""

from baiying_shared.privacy import mask_phone, mask_phones_in_text


def test_mask_mainland_mobile() -> None:
    assert mask_phone("+8613812345678") == "+86 138****5678"


def test_mask_inside_text() -> None:
    text = mask_phones_in_text("sent to +8613812345678 and 13900001111")
    assert "12345678" not in text and "00001111" not in text
    assert "+86 138****5678" in text
