"""The web app: ``python app.py [--host 127.0.0.1] [--port 7860] [--share no] [--index DIR]``.

Loads the index and the embedding model once, warms the engine up, then serves the Gradio
UI and its ``/ask`` API (see ``src/qa/web.py``). Binds 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import argparse
import atexit
import logging
import os
import shutil
import signal
import sys
import tempfile
import time

T0 = time.perf_counter()
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no telemetry calls, works offline
os.environ.setdefault("HF_HUB_OFFLINE", "1")
if "GRADIO_TEMP_DIR" not in os.environ:
    # Gradio's cache and uploads in a folder of this process's own, removed when it stops
    os.environ["GRADIO_TEMP_DIR"] = tempfile.mkdtemp(prefix="qa-gradio-")
    atexit.register(shutil.rmtree, os.environ["GRADIO_TEMP_DIR"], ignore_errors=True)


def _stop(signum: int, frame: object) -> None:
    """SIGTERM ends the app like Ctrl-C: the server closes and temporary folders are removed."""
    raise KeyboardInterrupt


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from qa.index import DEFAULT_INDEX

    p = argparse.ArgumentParser(description="Web app: bilingual cited answers over the Shanghai S&T reports")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--share", choices=("no", "yes"), default="no", help="Gradio share link (default no)")
    p.add_argument("--index", default=str(DEFAULT_INDEX), help="index folder (default index/)")
    p.add_argument("--concurrency", type=_positive_int, default=None,
                   help="questions answered at once (default qa.web.CONCURRENCY, 16; embedding runs one at a time)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "httpcore", "urllib3", "faiss.loader"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log = logging.getLogger("qa.app")

    from qa.answer import Answerer
    from qa.errors import QAError
    from qa.retrieve import get_retriever
    from qa import web

    try:
        answerer = Answerer(get_retriever(args.index))  # index + model load once, here
    except QAError as exc:
        print(f"app: error: {exc}", file=sys.stderr)
        return 2
    web.serving_engine(answerer.retriever)
    web.warm_up(answerer)
    demo = web.build_app(answerer, concurrency=args.concurrency or web.CONCURRENCY)
    try:
        _, url, share_url = web.launch(demo, host=args.host, port=args.port, share=args.share == "yes",
                                       prevent_thread_lock=True, quiet=True)
    except OSError as exc:  # port taken, address not available
        print(f"app: error: cannot serve on {args.host}:{args.port}: {exc}".split(". You can")[0],
              file=sys.stderr)
        return 2
    log.info("ready in %.2f s (index %s)", time.perf_counter() - T0, args.index)
    signal.signal(signal.SIGTERM, _stop)
    print(f"Running on {url}", flush=True)
    if share_url:
        print(f"Public URL: {share_url}", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
