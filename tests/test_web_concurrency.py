"""The web app answers requests side by side: a slow question does not hold up another one,
while the embedding engine still runs one call at a time. No timings are asserted; waits are
on events, with generous timeouts only so that a broken build fails instead of hanging."""
from __future__ import annotations

import json
import os
import socket
import threading

import pytest

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from qa import web  # noqa: E402
from qa.embed import FakeEmbedder  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")
HANG = 30  # seconds: only reached when the code under test is broken

SLOW_Q, NORMAL_Q = "slow question", "normal question"


class _Ans:
    def __init__(self, d: dict) -> None:
        self._d = d

    def to_dict(self) -> dict:
        return json.loads(json.dumps(self._d))


class BlockingAnswerer:
    """Answers SLOW_Q only once ``release`` is set; anything else at once."""

    def __init__(self) -> None:
        self.slow_started = threading.Event()
        self.release = threading.Event()
        self.finished: list[str] = []

    def ask(self, question, *, year=None, k=5):
        if question == SLOW_Q:
            self.slow_started.set()
            assert self.release.wait(HANG), "the slow question was never released"
        self.finished.append(question)
        return _Ans({"question": question, "answer": f"answer to {question}", "citations": [],
                     "figures": [], "passages": []})


def _in_thread(fn, *args):
    box: dict = {}

    def run():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 — handed to the test
            box["error"] = exc

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, box


@pytest.mark.parametrize("call", ["engine", "api", "chat"])
def test_a_slow_question_does_not_block_a_normal_one(tmp_path, call):
    answerer = BlockingAnswerer()
    app = web.WebApp(answerer, tmp_path / "dl")
    fn = {"engine": lambda q: app.engine.ask(q),
          "api": lambda q: app.api_ask(q),
          "chat": lambda q: app.respond(q, [], "All", 5)}[call]
    slow, slow_box = _in_thread(fn, SLOW_Q)
    assert answerer.slow_started.wait(HANG)
    normal, normal_box = _in_thread(fn, NORMAL_Q)
    normal.join(HANG)
    try:
        assert not normal.is_alive(), "the normal question waited for the slow one"
        assert "error" not in normal_box and answerer.finished == [NORMAL_Q]
        assert slow.is_alive()  # still blocked: the normal one really ran beside it
    finally:
        answerer.release.set()
        slow.join(HANG)
    assert "error" not in slow_box and answerer.finished == [NORMAL_Q, SLOW_Q]


class OverlapRecordingEmbedder(FakeEmbedder):
    """The fake embedder, recording how many calls run at once. The first call waits inside
    for a second one to join it (which happens at once if calls are not serialised)."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = self.peak = self.calls = 0
        self.count_lock = threading.Lock()
        self.first_inside = threading.Event()
        self.overlapped = threading.Event()

    def embed_queries(self, texts):
        with self.count_lock:
            self.inside += 1
            self.calls += 1
            self.peak = max(self.peak, self.inside)
            first = self.calls == 1
            if self.inside > 1:
                self.overlapped.set()
        try:
            if first:
                self.first_inside.set()
                self.overlapped.wait(1.0)  # a second caller has 1 s to get in beside this one
            return super().embed_queries(texts)
        finally:
            with self.count_lock:
                self.inside -= 1


def test_embedding_is_serialised_while_answers_run_concurrently(fake_index, tmp_path):
    from qa.answer import Answerer
    from qa.index import load_index
    from qa.retrieve import Retriever

    embedder = OverlapRecordingEmbedder()
    retriever = Retriever(load_index(fake_index), embedder=embedder)
    engine = web.Engine(Answerer(retriever))
    assert isinstance(retriever.embedder, web.SerialEmbedder) and retriever.embedder.id == embedder.id
    web.Engine(engine.answerer)  # a second engine over the same answerer does not wrap twice
    assert retriever.embedder.inner is embedder

    questions = ["2023年高企贷支持了多少家企业？", "2021年科创助力贷为多少家企业提供了信贷支持？",
                 "上海的研发投入占GDP比重是多少？", "2023年PCT专利申请受理量是多少？"]
    first = _in_thread(engine.ask, questions[0])
    assert embedder.first_inside.wait(HANG)
    others = [_in_thread(engine.ask, q) for q in questions[1:]]
    for t, box in [first] + others:
        t.join(HANG)
        assert not t.is_alive() and "error" not in box, box.get("error")
        assert box["value"]["question"]
    assert embedder.calls >= len(questions) and embedder.peak == 1


def test_serial_embedder_passes_calls_through():
    inner = FakeEmbedder()
    serial = web.SerialEmbedder(inner)
    assert (serial.id, serial.dim) == (inner.id, inner.dim)
    assert (serial.embed_queries(["科创"]) == inner.embed_queries(["科创"])).all()
    assert (serial.embed_passages(["科创"]) == inner.embed_passages(["科创"])).all()
    assert not serial.lock.locked()


def test_shortest_waiting_embedding_goes_first():
    order: list[str] = []
    inside, release = threading.Event(), threading.Event()

    class Inner(FakeEmbedder):
        def embed_queries(self, texts):
            order.append(texts[0][:5])
            if texts[0].startswith("first"):
                inside.set()
                assert release.wait(HANG)
            return super().embed_queries(texts)

    serial = web.SerialEmbedder(Inner())
    first = _in_thread(serial.embed_queries, ["first"])
    assert inside.wait(HANG)
    long_ = _in_thread(serial.embed_queries, ["long " + "x" * 2000])
    _wait_for(lambda: serial.lock.waiting() == 1)
    short = _in_thread(serial.embed_queries, ["short question"])
    _wait_for(lambda: serial.lock.waiting() == 2)
    release.set()
    for t, box in (first, long_, short):
        t.join(HANG)
        assert "error" not in box
    assert order == ["first", "short", "long "] and not serial.lock.locked()


def _wait_for(condition) -> None:
    done = threading.Event()
    for _ in range(HANG * 100):
        if condition():
            return
        done.wait(0.01)
    raise AssertionError("condition never met")


def test_the_query_cache_survives_concurrent_eviction():
    from qa.retrieve import QueryCache

    cache = QueryCache(size=4)
    for i in range(4):
        cache.put(f"q{i}", i)
    # another thread evicted the oldest between our snapshot and our pop: not an error
    real_list = list
    snapshots = []

    class Racing(dict):
        def __iter__(self):
            keys = real_list(dict.__iter__(self))
            snapshots.append(keys)
            dict.pop(self, keys[0], None)  # the other thread's eviction
            return iter(keys)

    cache._d = Racing(cache._d)
    assert cache.put("new", 9) == 9 and cache.get("new") == 9 and len(cache) <= 4
    assert snapshots and cache.get("q0") is None


def test_threads_sharing_a_query_cache_never_fail():
    import threading

    from qa.retrieve import QueryCache

    cache, errors = QueryCache(size=8), []

    def work(n: int) -> None:
        try:
            for i in range(3000):
                cache.put(f"{n}-{i}", i)
                cache.get(f"{n}-{i - 1}")
        except Exception as exc:  # noqa: BLE001 — the test reports any
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) <= 8 + 4  # at most one insert per thread beyond the size


# --- through Gradio: the queue lets a second request run beside a slow one ------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_answers_a_normal_question_while_a_slow_one_runs(tmp_path):
    from gradio_client import Client

    answerer = BlockingAnswerer()
    demo = web.build_app(answerer, download_dir=tmp_path / "dl")
    _, url, _ = web.launch(demo, port=_free_port(), prevent_thread_lock=True, quiet=True)
    try:
        slow_job = Client(url, verbose=False).submit(SLOW_Q, "", api_name="/ask")
        assert answerer.slow_started.wait(HANG)
        normal, box = _in_thread(lambda: Client(url, verbose=False).predict(NORMAL_Q, "", api_name="/ask"))
        normal.join(HANG)
        assert not normal.is_alive(), "the server queued the normal question behind the slow one"
        assert "error" not in box and box["value"]["answer"] == f"answer to {NORMAL_Q}"
        assert not slow_job.done()
        answerer.release.set()
        assert slow_job.result(timeout=HANG)["answer"] == f"answer to {SLOW_Q}"
    finally:
        answerer.release.set()
        demo.close()


def test_concurrency_must_be_positive():
    from qa.errors import QAError

    with pytest.raises(QAError):
        web.build_app(BlockingAnswerer(), concurrency=0)


def test_a_question_at_the_length_limit_is_answered_even_when_corrections_lengthen_it(fake_index, tmp_path):
    from qa.answer import Answerer
    from qa.index import load_index
    from qa.retrieve import MAX_QUESTION_CHARS, Retriever

    question = ("How many patentgrants were there in 2023? " * 60)[:MAX_QUESTION_CHARS]
    app = web.WebApp(Answerer(Retriever(load_index(fake_index))), tmp_path / "dl")
    assert web.input_problem(question) is None
    assert app.api_ask(question)["question"] == question  # no "2001 characters long" error
