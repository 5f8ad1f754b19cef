"""Accuracy of the trained model on phrasings it was never trained on, over every fact, and on held-out sums.

  .venv/bin/python model/evaluate.py model/.work
"""

import random
import sys
from pathlib import Path

import torch

import corpus
from tokenizer import Tokenizer
from train import Model, greedy

HELD_OUT = {
    "capital": ["Name the capital of {c}.", "Do you know which city is the capital of {c}?"],
    "currency": ["Which money is used in {c}?", "Name the currency of {c}."],
    "continent": ["{c} is located on which continent?"],
    "languages": ["Name the languages of {c}."],
}
SUMS = ["Sum of {a} and {b}?", "Add {a} to {b}.", "What's {a} + {b} equal to?"]


def main(work):
    work = Path(work)
    ck = torch.load(work / "model.pt", map_location="cpu")
    tok = Tokenizer.load(work / "tokenizer.json")
    model = Model(ck["config"], len(tok.pieces))
    model.load_state_dict(ck["state"])
    model.eval()
    facts = corpus.load_facts()
    for rel, qs in HELD_OUT.items():
        right = total = 0
        for f in facts:
            if rel not in f:
                continue
            q = qs[total % len(qs)].format(c=f["country"])
            total += 1
            right += f[rel] in greedy(model, tok, None, q)
        print(f"{rel}: {right}/{total} ({100 * right / total:.0f}%)", flush=True)
    rng = random.Random(7)
    pairs = sorted(corpus.HELD_OUT_SUMS)
    rng.shuffle(pairs)
    for phrasing in SUMS:
        right = sum(f"= {a + b}." in greedy(model, tok, None, phrasing.format(a=a, b=b)) for a, b in pairs[:100])
        print(f"held-out sums, {phrasing!r}: {right}/100", flush=True)

if __name__ == "__main__":
    main(sys.argv[1])
