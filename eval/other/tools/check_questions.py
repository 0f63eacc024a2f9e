"""Sanity checks for eval/other: quotes are exact substrings of their report,
figure values appear in their quote, report sizes, and counts per kind/lang.

Run: python3 eval/other/tools/check_questions.py
"""
import collections, json, pathlib, re, sys

HERE = pathlib.Path(__file__).resolve().parent.parent
manifest = json.loads((HERE / "corpus/manifest.json").read_text(encoding="utf-8"))
texts = {d["doc_id"]: (HERE / "corpus" / d["file"]).read_text(encoding="utf-8") for d in manifest}
CN = "零一二三四五六七八九"
CN_ALT = {2: "两"}
KINDS = {"count","money","percent","growth","rank","ratio","duration","age","date","text","other"}

def forms(v):
    """Textual forms under which a figure value may appear in a quote."""
    s = str(int(v)) if float(v).is_integer() else repr(float(v))
    out = {s}
    if float(v).is_integer() and 0 <= v <= 10:
        out.add(CN[int(v)] if v < 10 else "十")
        if int(v) in CN_ALT:
            out.add(CN_ALT[int(v)])
    return out

errors = []
for doc, t in texts.items():
    n = len(re.findall(r"[\u4e00-\u9fff]", t))
    ok = 2500 <= n <= 4000
    print(f"{doc}: {n} Chinese characters {'OK' if ok else 'OUT OF RANGE'}")
    if not ok:
        errors.append(f"{doc}: length {n}")

rows = [json.loads(l) for l in (HERE / "questions.jsonl").read_text(encoding="utf-8").splitlines() if l.strip()]
ids = [r["id"] for r in rows]
if len(set(ids)) != len(ids):
    errors.append("duplicate ids")
for r in rows:
    rid = r["id"]
    if set(r) != {"id","lang","question","answerable","figures","quote","doc_id","kind"}:
        errors.append(f"{rid}: fields {sorted(r)}")
    if r["kind"] not in KINDS or r["lang"] not in ("zh", "en") or r["doc_id"] not in texts:
        errors.append(f"{rid}: bad kind/lang/doc_id")
    if r["lang"] == "en" and re.search(r"[\u4e00-\u9fff]", r["question"]):
        errors.append(f"{rid}: English question contains Chinese characters")
    if not r["answerable"]:
        if r["quote"] or r["figures"]:
            errors.append(f"{rid}: unanswerable but has quote/figures")
        continue
    q = r["quote"]
    c = texts[r["doc_id"]].count(q) if q else 0
    if c == 0:
        errors.append(f"{rid}: quote not found in {r['doc_id']}: {q!r}")
    if r["kind"] == "text" and r["figures"]:
        errors.append(f"{rid}: text question with figures")
    if r["kind"] != "text" and not r["figures"]:
        errors.append(f"{rid}: quantity question without figures")
    for f in r["figures"]:
        if not any(x in q for x in forms(f["value"])):
            errors.append(f"{rid}: value {f['value']} not in quote {q!r}")
        if f["unit"] and f["unit"] not in q:
            errors.append(f"{rid}: unit {f['unit']!r} not in quote {q!r}")

def cat(r):
    if not r["answerable"]:
        return "unanswerable"
    return "text" if r["kind"] == "text" else "quantity"

print("\nquestions:", len(rows))
print("by doc x lang:", dict(collections.Counter((r["doc_id"], r["lang"]) for r in rows)))
print("by category:", dict(collections.Counter(cat(r) for r in rows)))
print("by category x lang:", dict(collections.Counter((cat(r), r["lang"]) for r in rows)))
print("by kind (answerable):", dict(collections.Counter(r["kind"] for r in rows if r["answerable"])))
print("by kind (unanswerable):", dict(collections.Counter(r["kind"] for r in rows if not r["answerable"])))
print("by kind x lang:", dict(sorted(collections.Counter((r["kind"], r["lang"]) for r in rows).items())))
if errors:
    print("\nERRORS:"); print("\n".join(errors)); sys.exit(1)
print("\nall checks passed")
