"""English answer sentences (qa.english): one grammar per kind of figure, numbers only as
qa.units renders cited figures, no Chinese outside quotes, no guessed names."""
import re
from dataclasses import replace

import pytest

from qa.english import describe, subject, text_opening, when
from qa.figures import extract_figures
from qa.glossary import Glossary


def has_cjk_outside_quotes(text: str) -> bool:
    """Chinese outside “quotation marks” (brackets do not excuse it here)."""
    return bool(re.search(r"[\u3400-\u9fff]", re.sub(r"“[^”]*”", " ", text)))


G = Glossary([("授信企业", "enterprises granted credit", ""), ("授信金额", "amount of credit granted", ""),
              ("小巨人信用贷", "Little Giant credit loans", ""), ("试点区", "pilot districts", ""),
              ("孵化器", "incubators", ""), ("专项资金", "special funds", ""),
              ("PCT专利申请受理量", "number of PCT patent applications accepted", ""),
              ("上海", "Shanghai", ""), ("总市值", "total market capitalization", "")],
             places=frozenset({"上海"}))


def figs(text: str, *metrics: str, year: int = 2023):
    found = extract_figures(text, year=year)
    return [replace(f, metric=m) if m else f for f, m in zip(found, list(metrics) + [""] * len(found))]


def test_count_and_money_share_one_subject_and_the_asked_term_leads():
    text = "小巨人信用贷授信企业 233 家,授信金额 45 亿元"
    f = figs(text, "小巨人信用贷 授信企业", "小巨人信用贷 授信企业 授信金额")
    s = describe(f, 2023, G, text, asked=["小巨人信用贷"])
    assert s == ("For Little Giant credit loans, the number of enterprises granted credit was 233 and "
                 "the amount of credit granted was RMB 4.5 billion in 2023")


def test_a_count_names_the_word_written_after_it_and_its_period():
    text = "截至年底，已为6个试点区的49家孵化器提供保障"
    f = figs(text, "试点区 孵化器", "试点区 孵化器")
    assert describe([f[1]], 2023, G, text) == "For pilot districts, the number of incubators was 49 at the end of 2023"
    assert describe([f[0]], 2023, G, text).startswith("The number of pilot districts was 6")


def test_growth_beside_the_figure_is_said_with_its_base():
    text = "PCT专利申请受理量6185件，比上年增长10.62%。"
    f = figs(text, "PCT专利申请受理量", "PCT专利申请受理量")
    s = describe([f[0]], 2023, G, text, others=f)
    assert s == "The number of PCT patent applications accepted was 6,185 in 2023, up 10.62% year on year"
    assert describe([f[1]], 2023, G, text) == "The number of PCT patent applications accepted rose 10.62% year on year in 2023"


def test_cumulative_and_approximate_qualifiers():
    text = "累计落实专项资金近110亿元"
    f = figs(text, "专项资金")
    assert "cumulative" in (f[0].qualifier or "")
    assert describe(f, 2021, G, text) == "The cumulative special funds totalled nearly RMB 11 billion in 2021"


def test_rank_names_the_place_and_its_scope():
    text = "总市值5.96万亿元,其中上海超1.5万亿元,排名全国第一"
    rank = [f for f in extract_figures(text, year=2021) if f.kind == "rank"][0]
    assert describe([rank], 2021, G, text) == "Shanghai ranked 1st nationally in 2021"


def test_a_place_is_not_what_a_money_figure_measures():
    text = "总市值5.96万亿元,其中上海超1.5万亿元"
    money = figs(text, "总市值", "总市值 上海")[1]
    assert subject(money, G).head == "total market capitalization"


def test_no_english_name_is_said_plainly_and_verbs_never_name_a_figure():
    text = "认定重点项目10家"
    f = figs(text, "认定 重点项目")[0]
    s = describe([f], 2023, Glossary([]), text)
    assert "认定" not in s and not has_cjk_outside_quotes(s)  # 认定 is a verb: never the subject
    unknown = replace(f, metric="吖吖吖吖")  # a word no dictionary knows
    s = describe([unknown], 2023, Glossary([]), text)
    assert s.startswith("The figure for “吖吖吖吖” (no English name known) was 10")


@pytest.mark.parametrize("period, expected", [
    ("截至年底", "at the end of 2023"), ("截至9月底", "as of the end of September 2023"),
    ("1—9月", "in January–September 2023"), ("全年", "in 2023"), (None, "in 2023")])
def test_when(period, expected):
    f = replace(extract_figures("授信企业 233 家")[0], period=period)
    assert when(f, 2023) == expected


def test_text_opening_is_english_and_labels_the_gloss():
    quote = "成立科创金融联盟,加强联动协同,首期规模10亿元"
    g = Glossary([("科创金融联盟", "sci-tech finance alliance", "")])
    s = text_opening(2023, "7.1 科技金融 › 金融支持科技创新", quote, g, extract_figures(quote), 1)
    assert s.startswith("The 2023 report answers this in its section on") and "(word-by-word gloss) [1]." in s
    assert "sci-tech finance alliance" in s and "RMB 1 billion" in s
    assert not has_cjk_outside_quotes(s)


def test_a_statistical_bulletin_counts_things_and_measures_quantities():
    # units of data/measure_words.txt are figures too: pigs (头), beds (张), tonnes (万吨)
    text = "全年生猪出栏312.7万头，比上年增长3.5%；粮食总产量215.8万吨。"
    found = {f.text: f for f in extract_figures(text, year=2022)}
    assert {"312.7万头", "215.8万吨"} <= set(found)
    grain = replace(found["215.8万吨"], metric="粮食总产量")
    s = describe([grain], 2022, Glossary([("粮食总产量", "total grain output", "")]), text)
    assert s == "The total grain output was 2.158 million tonnes in 2022"  # exact, and the unit named
    # an age names a group, not a figure: "5岁以下儿童死亡率为4.5‰"
    assert [f.text for f in extract_figures("5岁以下儿童死亡率为4.5‰")] == ["4.5‰"]


def test_a_numbered_heading_is_never_the_quoted_answer():
    from qa.passages import is_enumerated_heading

    assert is_enumerated_heading("一、综合") and is_enumerated_heading("（三）就业和物价")
    assert not is_enumerated_heading("一、全年粮食总产量215.8万吨")  # a figure: content


def test_dictionary_senses_never_bring_a_number_of_their_own():
    # CC-CEDICT's 二氧化碳 is "carbon dioxide CO2": its 2 is no figure of the report
    from qa.english import word_en

    assert word_en("二氧化碳", Glossary([])) is None
    f = figs("世界企业78家", "世界 企业")[0]
    # 世界 says where, not what (a scope word); the dictionary's singular sense is counted
    assert describe([f], 2022, Glossary([]), "世界企业78家") == "The number of companies was 78 in 2022"


def test_without_a_glossary_shares_places_and_names_read_as_english():
    text = "全省60岁及以上老年人口1026.7万人，占常住人口的21.3%"
    share = figs(text, "", "老年人")[-1]
    assert describe([share], 2023, Glossary([]), text) == "The share of old people was 21.3% in 2023"
    town = figs("城镇新增就业13.8万人", "城镇")[0]
    assert describe([town], 2022, Glossary([]), "城镇新增就业13.8万人").startswith("The number of towns")


def test_a_part_says_its_whole_and_rank_and_a_rank_says_what_it_ranks():
    text = "累计募得资金5080亿元,其中上海近1518亿元,排名全国第一"
    g = Glossary([("募得资金", "funds raised", ""), ("上海", "Shanghai", "")], places=frozenset({"上海"}))
    found = extract_figures(text, year=2021)
    whole, part, rank = found
    part = replace(part, metric="募得资金 上海")
    rank = replace(rank, metric="募得资金 上海 排名全国")
    others = [whole, part, rank]
    assert describe([part], 2021, g, text, others=others) == (
        "For Shanghai, the cumulative funds raised totalled nearly RMB 151.8 billion in 2021, "
        "of RMB 508 billion in all, ranking 1st nationally")
    assert describe([rank], 2021, g, text, others=others) == (
        "Shanghai ranked 1st nationally in 2021, with nearly RMB 151.8 billion of RMB 508 billion in all")
