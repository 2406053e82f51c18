"""Personal data never enters a prevention case: a corpus of realistic Chinese incident texts."""

from __future__ import annotations

import pytest

from baiying_dispatcher.prevention.pii import scrub

# (text, what must be gone, what must stay)
CORPUS: list[tuple[str, list[str], list[str]]] = [
    ("报案人张伟称，其于21时30分在章贡区文清路88号3栋2单元501室家中被盗，现金5000元。"
     "联系电话13812345678。",
     ["张伟", "88号", "501室", "13812345678"], ["张某", "文清路", "21时30分", "5000元", "被盗"]),
    ("嫌疑人驾驶赣B·12345白色轿车逃离，车主李建国先生报警。",
     ["12345", "李建国"], ["赣B·*****", "李某先生", "白色轿车"]),
    ("受害人王某接到自称公检法的电话（0797-8123456），被骗转账至账户6222 0212 3456 7890 123。",
     ["8123456", "6222"], ["王某", "公检法", "[电话]", "[账号]"]),
    ("居民刘芳反映，阳光花园5栋1单元302室有人撬门，身份证号360702199001011234。",
     ["刘芳", "5栋", "302室", "360702199001011234"], ["刘某", "阳光花园", "撬门"]),
    ("事主黄某某称，其电动车在红旗大道东段被盗，车牌赣BD12345。",
     ["BD12345"], ["黄某某", "红旗大道", "电动车"]),
    ("女子陈小红在网上认识自称投资导师的男子，被诱导下载APP，先后转账12万元。",
     ["陈小红"], ["陈某", "12万元", "下载APP"]),
    ("联系人：+86 139 0797 1234，微信同号，邮箱 zhangsan@example.com。",
     ["139", "1234", "zhangsan@example.com"], ["[电话]", "[邮箱]"]),
    ("１３９０７９７１２３４ 是嫌疑人留下的号码。",  # full-width digits
     ["１３９０７９７１２３４", "13907971234"], ["[电话]", "嫌疑人"]),
    ("司机赵强说，当晚在南康区蓉江路5号门口有两名男子抢走其手机。",
     ["赵强", "5号门口"], ["赵某", "蓉江路某号", "两名男子", "抢走"]),
    ("近期我市发生多起冒充客服诈骗案件，请群众提高警惕，如遇可疑情况请拨打110报警。",
     [], ["冒充客服诈骗", "110", "提高警惕"]),
    ("老人孙桂英在新华苑2幢被人以“保健品”名义骗走养老钱3万元。",
     ["孙桂英", "2幢"], ["孙某", "新华苑某栋", "3万元"]),
    ("店主吴建华发现收银台现金短少，监控显示一名戴帽男子于凌晨2时进入。",
     ["吴建华"], ["吴某", "凌晨2时", "戴帽男子"]),
]


@pytest.mark.parametrize(("text", "gone", "kept"), CORPUS, ids=[c[0][:12] for c in CORPUS])
def test_personal_data_removed_and_the_story_kept(
    text: str, gone: list[str], kept: list[str]
) -> None:
    cleaned = scrub(text)
    for part in gone:
        assert part not in cleaned.text, (part, cleaned.text)
    for part in kept:
        assert part in cleaned.text, (part, cleaned.text)
    assert cleaned.residual == [], cleaned.text


def test_what_was_removed_is_reported_by_kind() -> None:
    cleaned = scrub("报案人张伟称，电话13812345678，车牌赣B12345，住文清路8号。")
    kinds = {f.kind: f.text for f in cleaned.findings}
    assert kinds == {"phone": "13812345678", "plate": "赣B12345", "address": "8号",
                     "name": "张伟"}


def test_clean_text_is_left_alone() -> None:
    text = "近期电信诈骗高发，凡是要求转账到“安全账户”的都是诈骗。"
    assert scrub(text).text == text and scrub(text).findings == ()


def test_an_already_anonymised_name_is_not_reported() -> None:
    assert scrub("受害人张某称被骗。").findings == ()


def test_a_long_number_nothing_recognises_is_left_for_the_caller_to_refuse() -> None:
    # Seven digits with no separator: not a phone pattern here, but a caller must not publish it.
    assert scrub("对方留下号码8123456。").residual == ["8123456"]
