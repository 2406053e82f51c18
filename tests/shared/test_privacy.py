"""Phone masking in values and in free text."""

from baiying_shared.privacy import mask_phone, mask_phones_in_text


def test_mask_mainland_mobile() -> None:
    assert mask_phone("+8613812345678") == "+86 138****5678"


def test_mask_inside_text() -> None:
    text = mask_phones_in_text("sent to +8613812345678 and 13900001111")
    assert "12345678" not in text and "00001111" not in text
    assert "+86 138****5678" in text


def test_ids_and_dates_are_not_mistaken_for_phones() -> None:
    text = "2026-11-28T16:23:28Z id 0193aabb-1381-2345-6789-13812345678a n=20261128162328"
    assert mask_phones_in_text(text) == text


def test_log_lines_mask_phones(capsys: object) -> None:
    import logging

    import structlog

    from baiying_shared.logging import configure_logging, get_logger

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure_logging(service="t")  # binds this test's captured stderr: undone below
    try:
        get_logger().info("sms sent", phone="+8613812345678", note="reply from 13900001111")
        logging.getLogger("aiokafka").error("stdlib line to +8613812345678")
        err = capsys.readouterr().err  # type: ignore[attr-defined]
    finally:
        structlog.reset_defaults()
        structlog.contextvars.clear_contextvars()
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "13812345678" not in err and "13900001111" not in err
    assert err.count("+86 138****5678") == 2 and "139****1111" in err
