import json
import subprocess
import sys

import pytest

from qa.cli import main


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_search_json(capsys, fake_index):
    code, out, err = run(capsys, "search", "科创助力贷授信企业", "-k", 3, "--json", "--index", fake_index)
    assert code == 0
    obj = json.loads(out)
    assert obj["question"] == "科创助力贷授信企业" and len(obj["hits"]) == 3
    assert set(obj["hits"][0]) == {"rank", "score", "passage_id", "doc_id", "year", "section", "text", "start", "end"}
    assert "\\u" not in out


def test_search_text(capsys, fake_index):
    code, out, _ = run(capsys, "search", "高企贷", "--index", fake_index, "--year", 2021)
    assert code == 0 and out.startswith("[1] 2021 sh-st-2021")


def test_a_plain_text_file_of_questions_is_a_batch(capsys, fake_index, tmp_path):
    batch = tmp_path / "questions.txt"
    batch.write_text("高企贷\n\nPCT patent applications\n", encoding="utf-8")
    code, out, _ = run(capsys, "search", "--json", "--batch", batch, "-k", 2, "--index", fake_index)
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0
    assert [(x["id"], x["question"]) for x in lines] == [(1, "高企贷"), (3, "PCT patent applications")]
    assert all(len(x["hits"]) == 2 for x in lines)


def test_batch_keeps_order_and_reports_bad_lines(capsys, fake_index, tmp_path):
    batch = tmp_path / "b.jsonl"
    batch.write_bytes(
        '{"id": "a", "question": "高企贷"}\n'
        '{"id": "b", "question": ""}\n'
        '{not json\n'
        '\n'
        '{"id": "c"}\n'.encode("utf-8")
        + b'{"id": "d", "question": "\xb8\xdf\xc6\xf3\xb4\xfb"}\n'
        + '{"id": "e", "question": "PCT patent applications"}\n'.encode("utf-8")
    )
    code, out, _ = run(capsys, "search", "--json", "--batch", batch, "-k", 2, "--index", fake_index)
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 2  # every line answered, and the failed ones make the batch exit non-zero
    assert [x.get("id") for x in lines] == ["a", "b", None, "c", None, "e"]
    assert len(lines[0]["hits"]) == 2 and len(lines[5]["hits"]) == 2
    assert "empty" in lines[1]["error"]
    assert "line 3 is not valid JSON" in lines[2]["error"]
    assert "no \"question\"" in lines[3]["error"]
    assert "line 6 is not UTF-8" in lines[4]["error"]


@pytest.mark.parametrize("argv, message", [
    (["search", "   "], "the question is empty"),
    (["search", "高" * 2001], "limit is 2000"),
    (["search", "高企贷", "--year", "2019"], "no report for year 2019; known years: 2021, 2023"),
    (["search", "--batch", "x.jsonl"], "add --json"),
    (["search", "--json", "--batch", "missing.jsonl"], "does not exist"),
    (["search"], "no question given"),
])
def test_user_errors_are_one_line(capsys, fake_index, argv, message):
    code, out, err = run(capsys, *argv, "--index", fake_index)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("qa: error: ") and message in err


def test_missing_index(capsys, tmp_path):
    code, _, err = run(capsys, "search", "高企贷", "--index", tmp_path / "none")
    assert code == 2 and "no index found" in err and "qa index" in err


def test_index_if_needed(capsys, corpus_copy, tmp_path):
    args = ["index", "--corpus", corpus_copy, "--index", tmp_path / "ix", "--embedder", "fake", "--if-needed"]
    assert run(capsys, *args)[0] == 0
    code, _, err = run(capsys, *args)
    assert code == 0 and "up to date" in err


def test_bad_corpus_is_one_line(capsys, corpus_copy, tmp_path):
    (corpus_copy / "stray.txt").write_text("x", encoding="utf-8")
    code, _, err = run(capsys, "index", "--corpus", corpus_copy, "--index", tmp_path / "ix", "--embedder", "fake")
    assert code == 2 and "stray.txt' is not in manifest.json" in err


def test_no_traceback_from_the_real_command(fake_index):
    proc = subprocess.run([sys.executable, "-m", "qa.cli", "search", "", "--index", str(fake_index)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


def test_an_internal_error_on_one_line_does_not_end_the_batch(capsys, fake_index, tmp_path, monkeypatch):
    """Any unexpected exception answering one question becomes that line's error."""
    from qa.retrieve import Retriever

    real = Retriever.search

    def flaky(self, question, *a, **kw):
        if "boom" in question:
            raise ValueError("max() arg is an empty sequence")
        return real(self, question, *a, **kw)

    monkeypatch.setattr(Retriever, "search", flaky)
    batch = tmp_path / "b.jsonl"
    batch.write_text('{"id": 1, "question": "boom 高企贷"}\n{"id": 2, "question": "高企贷"}\n', encoding="utf-8")
    code, out, err = run(capsys, "search", "--json", "--batch", batch, "-k", 1, "--index", fake_index)
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 2 and "1 batch line(s) failed" in err
    assert lines[0] == {"id": 1, "error": "internal error: ValueError: max() arg is an empty sequence"}
    assert len(lines[1]["hits"]) == 1


def test_batch_survives_deep_json_and_lone_surrogates_and_reads_stdin(capsys, fake_index, tmp_path, monkeypatch):
    import io

    deep = "[" * 40_000 + "]" * 40_000
    text = (deep + "\n" + '{"id": "s", "question": "\\ud800 高企贷"}\n' + '{"id": "\\udc00", "question": ""}\n'
            + '{"id": "ok", "question": "高企贷"}\n')
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    code, out, _ = run(capsys, "search", "--json", "--batch", "-", "-k", 1, "--index", fake_index)
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 2 and len(lines) == 4
    assert "nested too deeply" in lines[0]["error"] and "lone surrogate" in lines[1]["error"]
    assert "error" in lines[2] and len(lines[3]["hits"]) == 1


def test_first_build_is_announced_as_a_build_not_an_error(capsys, seed_corpus, tmp_path):
    code, _, err = run(capsys, "index", "--if-needed", "--corpus", seed_corpus, "--index", tmp_path / "new-index")
    assert code == 0
    assert "building the index from" in err and "first run, about" in err
    assert "no index found" not in err and "error" not in err.lower()


@pytest.mark.parametrize("command", ["index", "search", "ask", "train", "eval"])
def test_every_subcommand_has_a_description_and_an_example(capsys, command):
    with pytest.raises(SystemExit):
        run(capsys, command, "--help")
    out = capsys.readouterr().out
    assert "example" in out and f"qa {command}" in out
