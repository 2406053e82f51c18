"""CSV row parsing with plain strings: header rules, fields, line numbers."""

from __future__ import annotations

import uuid
from datetime import time

import pytest

from baiying_registry.csvrows import MalformedCsv, decode_upload, iter_lines, parse_csv
from baiying_registry.reference import ganzhou

TEAM = uuid.uuid4()


def _parse(text: str):  # type: ignore[no-untyped-def]
    return parse_csv(iter_lines(text), area=ganzhou().bbox)


def test_a_full_row() -> None:
    p = _parse("Name, Phone ,team_id,lat,lon,district,skills,channels,language,on_duty,"
               "daily_alert_cap,quiet_start,quiet_end,status\n"
               f"温秀英,138 1234 5678,{TEAM},25.8,114.9,360702,driver；first_aid,app|sms,en,否,"
               "3,22:00,7:00,suspended\n")
    assert p.rejected == [] and p.received == 1
    row = p.rows[0]
    assert (row.line, row.name, row.phone, row.team_id) == (2, "温秀英", "+8613812345678", TEAM)
    assert (row.skills, row.channels, row.language, row.on_duty) == (
        ["driver", "first_aid"], ["app", "sms"], "en", False)
    assert (row.daily_alert_cap, row.quiet_start, row.quiet_end, row.status) == (
        3, time(22), time(7), "suspended")


def test_defaults_for_absent_columns() -> None:
    row = _parse(f"name,phone,team_id,lat,lon\n张三,13812345678,{TEAM},25.8,114.9\n").rows[0]
    assert (row.district, row.skills, row.channels, row.on_duty, row.daily_alert_cap) == (
        None, [], ["sms"], True, 10)


def test_every_bad_field_of_a_line_is_reported_with_the_line_number() -> None:
    text = ("name,phone,team_id,lat,lon,on_duty,daily_alert_cap\n"
            f"ok,13812345678,{TEAM},25.8,114.9,1,5\n"
            "\n"  # blank lines are skipped but still counted as lines
            ",123,nope,abc,200,maybe,999\n"
            f'"多行\n名字",13912345678,{TEAM},25.8,114.9,1,5\n'
            f"after,13712345678,{TEAM},25.8,114.9,1,5,extra\n")
    p = _parse(text)
    assert [r.line for r in p.rows] == [2, 5]
    assert p.rows[1].name == "多行\n名字"
    assert [(r.line, r.field) for r in p.rejected] == [
        (4, "name"), (4, "phone"), (4, "team_id"), (4, "lat"), (4, "lon"), (4, "on_duty"),
        (4, "daily_alert_cap"), (7, "*")]
    assert p.received == 4


def test_out_of_area_names_the_coordinate_that_is_out() -> None:
    p = _parse(f"name,phone,team_id,lat,lon\na,13812345678,{TEAM},25.8,120.0\n"
               f"b,13912345678,{TEAM},30.0,114.9\n")
    assert [(r.line, r.field) for r in p.rejected] == [(2, "lon"), (3, "lat")]


def test_a_repeated_phone_keeps_the_first_line() -> None:
    p = _parse(f"name,phone,team_id,lat,lon\na,13812345678,{TEAM},25.8,114.9\n"
               f"b,+86 138 1234 5678,{TEAM},25.8,114.9\n")
    assert [r.name for r in p.rows] == ["a"]
    assert p.rejected[0].line == 3 and "line 2" in p.rejected[0].reason


@pytest.mark.parametrize(("text", "says"), [
    ("", "empty"), ("name,phone,team_id,lat\n", "'lon'"), ("name,phone,team_id,lat,lon,x\n", "'x'"),
    ("name,name,phone,team_id,lat,lon\n", "twice"),
    ("name,phone,team_id,lat,lon,quiet_start\n", "together"),
    ('name,phone,team_id,lat,lon\n"a,b\n', "line"),
])
def test_malformed_files(text: str, says: str) -> None:
    with pytest.raises(MalformedCsv, match=says):
        _parse(text)


def test_only_utf8_is_accepted() -> None:
    assert decode_upload("\ufeff名".encode()) == "名"
    with pytest.raises(MalformedCsv, match="UTF-8"):
        _parse(decode_upload("名字,phone\n".encode("gbk")))


def test_a_bad_byte_rejects_its_line_naming_the_field() -> None:
    text = decode_upload(f"name,phone,team_id,lat,lon\n张三,138\x0012345678,{TEAM},25.8,114.9\n"
                         .encode() + "李四".encode("gbk") + f",13812345679,{TEAM},25.8,114.9\n"
                         f"王五,13812345670,{TEAM},25.8,114.9\n".encode())
    p = _parse(text)
    assert [(r.line, r.field) for r in p.rejected] == [(2, "phone"), (3, "name")]
    assert "NUL" in p.rejected[0].reason and "byte 0x" in p.rejected[1].reason
    assert [r.line for r in p.rows] == [4]


def test_an_undecodable_header_still_rejects_the_file() -> None:
    with pytest.raises(MalformedCsv, match="UTF-8"):
        _parse(decode_upload("姓名,phone,team_id,lat,lon\n".encode("gbk")))


def test_rarer_collections_last_while_any_import_runs() -> None:
    import gc

    from baiying_registry.csvrows import rare_collections

    before = gc.get_threshold()
    with rare_collections():
        assert gc.get_threshold() == (100_000, 50, 100)
        with rare_collections():  # a second import at the same time
            pass
        assert gc.get_threshold() == (100_000, 50, 100), "the first import is still running"
    assert gc.get_threshold() == before
