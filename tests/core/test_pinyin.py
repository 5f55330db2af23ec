"""Tests of crm_core.pinyin: the pinyin keys a user searches people by."""

from __future__ import annotations

import pytest

from crm_core.pinyin import name_pinyin, normalize_name, normalize_text, query_is_pinyin

# ---------------------------------------------------------------------------------------
# name_pinyin
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("张三", "zhangsan", "zs"),
        ("李明", "liming", "lm"),
        ("王小红", "wangxiaohong", "wxh"),
        ("刘德华", "liudehua", "ldh"),
        ("陈", "chen", "c"),
    ],
)
def test_ordinary_names(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        # Surnames pypinyin alone would misread (its reading in the comment).
        ("单雄信", "shanxiongxin", "sxx"),  # dan
        ("曾国藩", "zengguofan", "zgf"),  # ceng
        ("解缙", "xiejin", "xj"),  # jie
        ("仇英", "qiuying", "qy"),  # chou
        ("朴槿惠", "piaojinhui", "pjh"),  # pu
        ("区家麟", "oujialin", "ojl"),  # qu
        ("查良镛", "zhaliangyong", "zly"),  # cha
        ("盖聂", "genie", "gn"),  # gai
        ("缪小红", "miaoxiaohong", "mxh"),  # mou
        ("覃秀芳", "qinxiufang", "qxf"),  # tan
        ("召忠", "shaozhong", "sz"),  # zhao
        ("繁钦", "poqin", "pq"),  # fan
        ("种师道", "chongshidao", "csd"),  # zhong
        ("秘建华", "bijianhua", "bjh"),  # mi
        ("乐毅", "yueyi", "yy"),  # le
        ("员半千", "yunbanqian", "ybq"),  # yuan
        ("翟志刚", "zhaizhigang", "zzg"),  # di
        ("隗建国", "weijianguo", "wjg"),  # kui
        ("句龙", "goulong", "gl"),  # ju
        ("折克行", "shekexing", "skx"),  # zhe
        ("卜凡", "bufan", "bf"),  # bo
        ("薄一波", "boyibo", "byb"),  # bao
        ("藏克家", "zangkejia", "zkj"),  # cang
        ("祭仲", "zhaizhong", "zz"),  # ji
        ("能静", "naijing", "nj"),  # neng
        ("都兰", "dulan", "dl"),  # dou
        ("长晓明", "changxiaoming", "cxm"),  # zhang
        ("阚泽", "kanze", "kz"),  # han
        ("佴永", "naiyong", "ny"),  # er
        ("乜红", "niehong", "nh"),  # mie
        ("粘玉", "nianyu", "ny"),  # zhan
        ("洗玉清", "xianyuqing", "xyq"),  # xi
        # Polyphonic surnames whose surname reading is also pypinyin's default.
        ("华罗庚", "hualuogeng", "hlg"),
        ("任正非", "renzhengfei", "rzf"),
        ("那英", "naying", "ny"),
        ("瞿秋白", "quqiubai", "qqb"),
        ("冼星海", "xianxinghai", "xxh"),
        ("谌容", "chenrong", "cr"),
        ("逄先知", "pangxianzhi", "pxz"),
        ("牟其中", "mouqizhong", "mqz"),
        ("宓浩", "mihao", "mh"),
        ("石磊", "shilei", "sl"),
        ("柏杨", "baiyang", "by"),
        ("重耳", "chonger", "ce"),
        ("沈从文", "shencongwen", "scw"),
        ("褚遂良", "chusuiliang", "csl"),
        ("应勇", "yingyong", "yy"),
        ("相东", "xiangdong", "xd"),
        ("殷桃", "yintao", "yt"),
        ("车晓", "chexiao", "cx"),
        ("宿华", "suhua", "sh"),
        ("阿来", "alai", "al"),
        # 尉 alone is wei (yu only in the compound 尉迟).
        ("尉缭", "weiliao", "wl"),
    ],
)
def test_polyphonic_single_surnames(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("欧阳修", "ouyangxiu", "oyx"),
        ("司马光", "simaguang", "smg"),
        ("诸葛亮", "zhugeliang", "zgl"),
        ("上官婉儿", "shangguanwaner", "sgwe"),
        ("东方朔", "dongfangshuo", "dfs"),
        ("皇甫嵩", "huangfusong", "hfs"),
        ("尉迟恭", "yuchigong", "ycg"),
        ("公孙胜", "gongsunsheng", "gss"),
        ("慕容复", "murongfu", "mrf"),
        ("长孙无忌", "zhangsunwuji", "zswj"),
        ("宇文泰", "yuwentai", "ywt"),
        ("司徒雷登", "situleideng", "stld"),
        ("夏侯惇", "xiahoudun", "xhd"),
        ("令狐冲", "linghuchong", "lhc"),
        ("轩辕明", "xuanyuanming", "xym"),
        ("澹台灭明", "tantaimieming", "ttmm"),
        ("端木蕻良", "duanmuhongliang", "dmhl"),
        ("申屠嘉", "shentujia", "stj"),
        ("太史慈", "taishici", "tsc"),
        ("西门庆", "ximenqing", "xmq"),
        ("南宫敏", "nangongmin", "ngm"),
        ("万俟卨", "moqixie", "mqx"),
        ("闻人杰", "wenrenjie", "wrj"),
        ("赫连勃勃", "helianbobo", "hlbb"),
        ("呼延灼", "huyanzhuo", "hyz"),
        ("独孤信", "duguxin", "dgx"),
        ("钟离春", "zhonglichun", "zlc"),
        ("百里奚", "bailixi", "blx"),
        ("东郭先生", "dongguoxiansheng", "dgxs"),
        ("第五伦", "diwulun", "dwl"),
        ("爱新觉罗溥仪", "aixinjueluopuyi", "axjlpy"),
        # Traditional forms.
        ("歐陽修", "ouyangxiu", "oyx"),
        ("單雄信", "shanxiongxin", "sxx"),
    ],
)
def test_compound_surnames(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


def test_compound_surname_wins_over_single() -> None:
    # 万 alone is "wan", 长 alone is "chang", 尉 alone is "wei".
    assert name_pinyin("万俟卨")[0].startswith("moqi")
    assert name_pinyin("长孙无忌")[0].startswith("zhangsun")
    assert name_pinyin("尉迟恭")[0].startswith("yuchi")


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        # The given name is read with phrase context.
        ("张长江", "zhangchangjiang", "zcj"),
        ("张重阳", "zhangchongyang", "zcy"),
        ("李朝阳", "lizhaoyang", "lzy"),
        ("刘长春", "liuchangchun", "lcc"),
        # The surname table applies to the first character only.
        ("李解放", "lijiefang", "ljf"),
        ("王单单", "wangdandan", "wdd"),
        ("张曾", "zhangceng", "zc"),
        ("单单", "shandan", "sd"),
        # The surname does not join a phrase with the given name (曾经 would be ceng).
        ("曾经纬", "zengjingwei", "zjw"),
    ],
)
def test_given_names(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("吕", "lv", "l"),
        ("吕布", "lvbu", "lb"),
        ("吕绿", "lvlv", "ll"),
        ("闾丘露", "lvqiulu", "lql"),
        ("张略", "zhanglve", "zl"),
    ],
)
def test_u_umlaut_is_v(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        # pypinyin has no reading for 𠇔 (U+201D4): it is dropped, the rest is kept.
        ("𠇔", "", ""),
        ("张𠇔三", "zhangsan", "zs"),
        ("𠇔三", "san", "s"),
        # pypinyin reads 𡒄 (U+21484) as "lan": the reading is used.
        ("王𡒄", "wanglan", "wl"),
        # CJK compatibility ideograph 龍 (U+F9C4) is folded to 龙 first.
        ("李\uf9c4", "lilong", "ll"),
        # 〇 is read as ling.
        ("王〇", "wangling", "wl"),
    ],
)
def test_rare_characters(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("Mary张", "maryzhang", "mz"),
        ("张Mary", "zhangmary", "zm"),
        ("Mary Jane 张", "maryjanezhang", "mjz"),
        ("ＭＡＲＹ张", "maryzhang", "mz"),  # full-width letters
        ("José李", "joseli", "jl"),  # accents stripped
        ("John Smith", "johnsmith", "js"),
        # Digits and punctuation are dropped.
        ("张三2", "zhangsan", "zs"),
        ("张三(秘书)", "zhangsanmishu", "zsms"),
        ("1单雄信", "shanxiongxin", "sxx"),
        ("", "", ""),
        ("   ", "", ""),
        ("123", "", ""),
    ],
)
def test_latin_digits_and_punctuation(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("阿依古丽·买买提", "ayigulimaimaiti", "ayglmmt"),
        ("阿依古丽・买买提", "ayigulimaimaiti", "ayglmmt"),  # katakana middle dot
        ("阿依古丽 · 买买提", "ayigulimaimaiti", "ayglmmt"),
        ("阿依古丽.买买提", "ayigulimaimaiti", "ayglmmt"),
        ("迪丽热巴·迪力木拉提", "dilirebadilimulati", "dlrbdlmlt"),
    ],
)
def test_middle_dot_separator(name: str, full: str, initials: str) -> None:
    assert name_pinyin(name) == (full, initials)


@pytest.mark.parametrize(
    "name",
    ["  张三 ", "张　三", "\u3000张  三\u3000", "张\t三\n", "张\u200b三", "张 三"],
)
def test_spaces_do_not_change_the_keys(name: str) -> None:
    assert name_pinyin(name) == ("zhangsan", "zs")


def test_output_is_lowercase_ascii_letters() -> None:
    for name in ["欧阳修", "吕布", "Mary张", "阿依古丽·买买提", "张𠇔三", "Zoë王"]:
        full, initials = name_pinyin(name)
        assert full.isascii()
        assert full == "" or full.isalpha()
        assert full == full.lower()
        assert initials.isascii()
        assert initials == initials.lower()
        assert len(initials) <= len(full)


def test_repeated_calls_agree() -> None:
    # The memo must not change results.
    first = [name_pinyin(n) for n in ("单雄信", "张三", "单雄信", "吕布")]
    second = [name_pinyin(n) for n in ("单雄信", "张三", "单雄信", "吕布")]
    assert (
        first
        == second
        == [
            ("shanxiongxin", "sxx"),
            ("zhangsan", "zs"),
            ("shanxiongxin", "sxx"),
            ("lvbu", "lb"),
        ]
    )


# ---------------------------------------------------------------------------------------
# normalize_text / normalize_name
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello   world  ", "hello world"),
        ("ＡＢＣ１２３", "ABC123"),
        ("北京市\u3000\u3000朝阳区", "北京市 朝阳区"),
        ("a\tb\nc\r\nd", "a b c d"),
        ("a\u00a0b", "a b"),
        ("\ufeff张三\u200b", "张三"),
        ("（备注）", "(备注)"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_normalize_text(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("张  三", "张三"),
        ("  张三  ", "张三"),
        ("\u3000张\u3000三\u3000", "张三"),
        ("欧 阳 修", "欧阳修"),
        ("张\t三", "张三"),
        ("Ｍａｒｙ", "Mary"),
        ("Mary   Jane", "Mary Jane"),
        ("Mary 张", "Mary张"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽‧买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("阿依古丽．买买提", "阿依古丽·买买提"),
        ("J. Smith", "J. Smith"),
        ("张三 (秘书)", "张三(秘书)"),
        ("李 Mary", "李Mary"),
        ("", ""),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_normalize_name_is_idempotent() -> None:
    for raw in ["　张 三 ", "Mary  Jane 张", "阿依古丽 ・ 买买提", "ＡＢＣ"]:
        once = normalize_name(raw)
        assert normalize_name(once) == once


# ---------------------------------------------------------------------------------------
# query_is_pinyin
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("zs", True),
        ("zhangsan", True),
        ("ZhangSan", True),
        ("  lv  ", True),
        ("ｚｓ", True),  # full-width letters
        ("张三", False),
        ("zhang san", False),
        ("张s", False),
        ("lü", False),
        ("zs1", False),
        ("138", False),
        ("z.s", False),
        ("", False),
        ("   ", False),
    ],
)
def test_query_is_pinyin(query: str, expected: bool) -> None:
    assert query_is_pinyin(query) is expected


def test_queries_match_stored_keys() -> None:
    # What a user types finds what name_pinyin stored.
    full, initials = name_pinyin("单雄信")
    for query in ("ShanXiongXin", "SXX"):
        assert query_is_pinyin(query)
        assert query.strip().lower() in (full, initials)
