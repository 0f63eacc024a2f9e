"""Write eval/other/gold.jsonl (the `qa eval` format) from questions.jsonl, and wrap the
corpus manifest as {"documents": [...]} — run once after editing questions.jsonl."""
import json
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
manifest = HERE / "corpus" / "manifest.json"
docs = json.loads(manifest.read_text(encoding="utf-8"))
if isinstance(docs, list):
    manifest.write_text(json.dumps({"documents": docs}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
out = []
for line in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines():
    q = json.loads(line)
    if not q["answerable"]:
        kind, answers, source = "unanswerable", [], []
    elif q["figures"]:
        kind = "figure" if len(q["figures"]) == 1 else "multi_figure"
        answers = [{"value": f["value"], "unit": f["unit"], "text": ""} for f in q["figures"]]
        source = [{"doc": q["doc_id"], "quote": q["quote"]}]
    else:
        kind, answers, source = "text", [], [{"doc": q["doc_id"], "quote": q["quote"]}]
    out.append({"id": q["id"], "lang": q["lang"], "type": kind, "question": q["question"], "year": None,
                "answers": answers, "source": source, "kind": q["kind"]})
(HERE / "gold.jsonl").write_text("".join(json.dumps(o, ensure_ascii=False) + "\n" for o in out), encoding="utf-8")
print(f"wrote {len(out)} questions")
