"""A small BPE vocabulary, encoded exactly as llama.cpp's SentencePiece-style ("llama") tokenizer does.

llama.cpp tokenizes such a vocabulary by repeatedly merging the adjacent pair of symbols whose concatenation is a
vocabulary piece with the highest score (leftmost on ties), then falls back to <0xXX> byte tokens for anything
left that is not a piece. Scores here are minus the BPE merge rank, so that procedure reproduces the merges, and
`encode` below is that same procedure: the token ids the model trains on are the ones llama.cpp produces.
"""

import collections
import json
import re

SPECIALS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
UNK, BOS, EOS, IM_START, IM_END = range(5)
TYPE_NORMAL, TYPE_UNKNOWN, TYPE_CONTROL, TYPE_BYTE = 1, 2, 3, 6
SPACE = "\u2581"  # "▁"
MERGEABLE = re.compile(r"^[A-Za-z\u00C0-\u024F\u2581'\-]+$")
SPECIAL_RE = re.compile("(" + "|".join(re.escape(s) for s in SPECIALS) + ")")


def words_of(text):
    """Splits escaped text where merges may not cross: before each ▁, and around anything not a letter."""
    text = text.replace(" ", SPACE)
    return re.findall(r"\u2581?[A-Za-z\u00C0-\u024F'\-]+|\u2581|[^A-Za-z\u00C0-\u024F'\-\u2581]", text)


class Tokenizer:
    def __init__(self, pieces, scores, types):
        self.pieces, self.scores, self.types = pieces, scores, types
        self.ids = {p: i for i, p in enumerate(pieces)}
        self.byte_ids = [self.ids[f"<0x{b:02X}>"] for b in range(256)]

    @classmethod
    def train(cls, texts, n_merges):
        counts = collections.Counter()
        chars = set()
        for t in texts:
            for w in words_of(t):
                counts[w] += 1
                chars.update(w)
        chars.discard("\n")  # newline is the <0x0A> byte token, as in Llama vocabularies
        words = {w: list(w) for w in counts}
        merges = []
        for _ in range(n_merges):
            pairs = collections.Counter()
            for w, syms in words.items():
                for a, b in zip(syms, syms[1:]):
                    if MERGEABLE.match(a) and MERGEABLE.match(b):
                        pairs[a, b] += counts[w]
            if not pairs:
                break
            (a, b), n = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
            if n < 2:
                break
            merges.append(a + b)
            for w, syms in words.items():
                i = 0
                while i < len(syms) - 1:
                    if syms[i] == a and syms[i + 1] == b:
                        syms[i : i + 2] = [a + b]
                    else:
                        i += 1
        pieces = list(SPECIALS)
        types = [TYPE_UNKNOWN, TYPE_CONTROL, TYPE_CONTROL, TYPE_CONTROL, TYPE_CONTROL]
        scores = [0.0] * len(SPECIALS)
        for b in range(256):
            pieces.append(f"<0x{b:02X}>")
            types.append(TYPE_BYTE)
            scores.append(0.0)
        for ch in sorted(chars):
            pieces.append(ch)
            types.append(TYPE_NORMAL)
            scores.append(0.0)
        seen = set(pieces)
        for rank, m in enumerate(merges, 1):
            if m in seen:
                continue
            seen.add(m)
            pieces.append(m)
            types.append(TYPE_NORMAL)
            scores.append(-float(rank))
        return cls(pieces, scores, types)

    def encode_fragment(self, text):
        syms = list(text.replace(" ", SPACE))
        ids, scores = self.ids, self.scores
        while len(syms) > 1:
            best, best_score = -1, None
            for i in range(len(syms) - 1):
                t = ids.get(syms[i] + syms[i + 1])
                if t is not None and (best_score is None or scores[t] > best_score):
                    best, best_score = i, scores[t]
            if best < 0:
                break
            syms[best : best + 2] = [syms[best] + syms[best + 1]]
        out = []
        for s in syms:
            t = ids.get(s)
            if t is not None and self.types[t] == TYPE_NORMAL:
                out.append(t)
            else:
                out.extend(self.byte_ids[b] for b in s.encode("utf-8"))
        return out

    def encode(self, text):
        """Text with special tokens, as llama.cpp tokenizes it with special-token parsing on."""
        out = []
        for part in SPECIAL_RE.split(text):
            if not part:
                continue
            if part in self.ids and part in SPECIALS:
                out.append(self.ids[part])
            else:
                out.extend(self.encode_fragment(part))
        return out

    def decode(self, ids):
        buf = bytearray()
        for i in ids:
            p = self.pieces[i]
            if self.types[i] == TYPE_BYTE:
                buf.append(int(p[3:5], 16))
            elif self.types[i] == TYPE_NORMAL:
                buf.extend(p.replace(SPACE, " ").encode("utf-8"))
            else:
                buf.extend(p.encode("utf-8"))
        return buf.decode("utf-8", errors="replace")

    def save(self, path):
        with open(path, "w") as f:
            json.dump({"pieces": self.pieces, "scores": self.scores, "types": self.types}, f, ensure_ascii=False)

    @classmethod
    def load(cls, path):
        with open(path) as f:
            d = json.load(f)
        return cls(d["pieces"], d["scores"], d["types"])
