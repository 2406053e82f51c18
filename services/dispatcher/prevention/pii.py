"""Personal data out of prevention texts: phones, IDs, plates, exact addresses, names. No I/O.

A case is published to thousands of people, so its text must not identify anyone. The rules
follow how public-security bulletins write: a person becomes 张某, a plate 赣B·*****, an exact
address the road or estate alone (某号, 某栋). What cannot be cleaned reliably (an e-mail, a
long digit string that may be an account) is replaced too; `residual` reports anything
number-like left so a caller can refuse rather than publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The hundred most common surnames cover about 85 % of people in China; two-character ones first.
COMPOUND_SURNAMES = "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 令狐 夏侯 长孙".split()
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤赖温易"
)
_SURNAME = "(?:" + "|".join(COMPOUND_SURNAMES) + f"|[{SURNAMES}])"
# Words after which a name follows in police and news writing.
_ROLE = (
    "报案人|报警人|受害人|被害人|事主|失主|嫌疑人|犯罪嫌疑人|当事人|居民|村民|市民|群众|车主|店主"
    "|业主|老人|学生|男子|女子|民警|辅警|队员|志愿者|信息员|保安|司机|租客|房东|老板|网友"
)
_HONORIFIC = "先生|女士|小姐|阿姨|大爷|大妈|大叔|大姐|师傅|老板|同学|老师|奶奶|爷爷"
_VERB_AFTER = "称|说|报警|报案|发现|被骗|被盗|被抢|反映|介绍|表示|遭遇|接到|收到|因"
# After "role + name" the clause goes on with a preposition or particle (女子陈某在…).
_AFTER_ROLE_NAME = "在|于|被|向|将|从|把|与|和|等|的|家|驾|骑|开|到|来|去|也|已|曾|又"
# A given name is one or two Han characters that are not themselves words starting a clause.
_GIVEN = r"[\u4e00-\u9fff]{1,2}?"

_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"

_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[邮箱]"),
    ("id_card", re.compile(r"(?<!\d)\d{6}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?!\d)"),
     "[身份证号]"),
    ("phone", re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)"), "[电话]"),
    ("phone", re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "[电话]"),
    ("account", re.compile(r"(?<!\d)\d(?:[\s-]?\d){11,22}(?!\d)"), "[账号]"),
    ("plate", re.compile(rf"([{_PROVINCES}])([A-Z])[·•.\s]?[A-Z0-9]{{5,6}}(?![A-Z0-9])"),
     r"\1\2·*****"),
    # Road + number (+ building, unit, room): keep the road, drop what finds the door.
    ("address", re.compile(
        r"([\u4e00-\u9fff]{1,12}?(?:路|街|巷|大道|大街|弄|胡同))\d+(?:-\d+)?号"
        r"(?:(?:\d+|[A-Z])(?:栋|幢|号楼))?(?:\d+单元)?(?:\d+(?:室|号房|楼))?"), r"\1某号"),
    # Estate + building / unit / room.
    ("address", re.compile(
        r"([\u4e00-\u9fff]{1,12}?(?:小区|花园|公寓|大厦|新村|家园|苑|广场))"
        r"(?:\d+|[A-Z])(?:栋|幢|号楼)(?:\d+单元)?(?:\d+(?:室|号房|楼))?"), r"\1某栋"),
    ("address", re.compile(r"(?<![\d])\d+(?:单元)\d+(?:室)"), "某室"),
)
# Each has groups `pre` (kept), `s` (the surname, kept) and `g` (the given name, replaced).
_NAME_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"(?P<pre>(?:{_ROLE})[：:\s]?)(?P<s>{_SURNAME})(?P<g>{_GIVEN})"
               rf"(?=[，,。、；;\s（(]|{_VERB_AFTER}|{_AFTER_ROLE_NAME}|$)"),
    re.compile(rf"(?P<pre>)(?P<s>{_SURNAME})(?P<g>{_GIVEN})(?=(?:{_HONORIFIC}))"),
    re.compile(rf"(?P<pre>(?:^|(?<=[，,。；;\s])))(?P<s>{_SURNAME})(?P<g>{_GIVEN})"
               rf"(?=(?:{_VERB_AFTER}))"),
)
# Full-width digits and Latin letters (１３８, ＡＢ) written as ASCII, so the rules see them;
# Chinese punctuation stays as it is (NFKC would turn ， into ,).
_FULL_WIDTH = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B))
               for c in range(*r)}
_LEFTOVER_DIGITS = re.compile(r"\d{7,}")


@dataclass(frozen=True)
class Finding:
    kind: str
    text: str


@dataclass(frozen=True)
class Cleaned:
    text: str
    findings: tuple[Finding, ...]

    @property
    def residual(self) -> list[str]:
        """Number-like runs still in the text (long enough to be a phone or an account)."""
        return _LEFTOVER_DIGITS.findall(self.text)


def scrub(text: str) -> Cleaned:
    """`text` with personal data replaced, and what was found (kind and original)."""
    out = text.translate(_FULL_WIDTH)
    found: list[Finding] = []
    for kind, pattern, replacement in _RULES:
        # An address keeps its road or estate (group 1): what is found is the rest.
        found += [Finding(kind, m.group(0)[len(m.group(1)):] if kind == "address" and
                          pattern.groups else m.group(0)) for m in pattern.finditer(out)]
        out = pattern.sub(replacement, out)
    for pattern in _NAME_RULES:
        found += [Finding("name", m.group("s") + m.group("g")) for m in pattern.finditer(out)
                  if not m.group("g").startswith("某")]
        out = pattern.sub(_anonymise, out)
    return Cleaned(out, tuple(found))


def _anonymise(m: re.Match[str]) -> str:
    if m.group("g").startswith("某"):
        return m.group(0)  # already anonymised (张某, 李某某)
    return f"{m.group('pre')}{m.group('s')}某"
