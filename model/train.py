"""Trains the Cocoon demo model: a small Llama-architecture transformer, on CPU, from corpus.py's data.

The layers match llama.cpp's "llama" architecture exactly (RMSNorm, rotary embeddings on interleaved pairs,
SwiGLU feed-forward, tied input/output embeddings), so export_gguf.py writes the weights unchanged.

  .venv/bin/python model/train.py --steps 3000 --out model/.work
"""

import argparse
import math
import random
import time
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

import corpus
from tokenizer import IM_END, Tokenizer

CONFIG = {
    "dim": 192,
    "layers": 4,
    "heads": 6,
    "ffn": 512,
    "context": 256,
    "rope_base": 10000.0,
    "norm_eps": 1e-5,
}


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    """Rotates interleaved pairs (x0, x1), (x2, x3), ... as llama.cpp's normal RoPE mode does."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    out = torch.stack((x0 * cos - x1 * sin, x0 * sin + x1 * cos), dim=-1)
    return out.flatten(-2)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h = c["dim"], c["heads"]
        self.attn_norm = RMSNorm(d, c["norm_eps"])
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.ffn_norm = RMSNorm(d, c["norm_eps"])
        self.gate = nn.Linear(d, c["ffn"], bias=False)
        self.up = nn.Linear(d, c["ffn"], bias=False)
        self.down = nn.Linear(c["ffn"], d, bias=False)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        h = self.attn_norm(x)
        shape = (b, t, self.h, d // self.h)
        q = rope(self.q(h).view(shape), cos, sin).transpose(1, 2)
        k = rope(self.k(h).view(shape), cos, sin).transpose(1, 2)
        v = self.v(h).view(shape).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, d))
        h = self.ffn_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Model(nn.Module):
    def __init__(self, c, vocab):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(vocab, c["dim"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["dim"], c["norm_eps"])
        hd = c["dim"] // c["heads"]
        inv = 1.0 / (c["rope_base"] ** (torch.arange(0, hd, 2).float() / hd))
        ang = torch.outer(torch.arange(c["context"]).float(), inv)
        self.register_buffer("cos", ang.cos()[None, :, None, :], persistent=False)
        self.register_buffer("sin", ang.sin()[None, :, None, :], persistent=False)
        nn.init.normal_(self.embed.weight, std=0.02)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.embed(ids)
        for blk in self.blocks:
            x = blk(x, self.cos[:, :t], self.sin[:, :t])
        return self.norm(x) @ self.embed.weight.T


def encode_example(tok, system, user, answer):
    prompt = tok.encode(corpus.chatml(system, user))
    reply = tok.encode(answer) + [IM_END]
    return prompt, reply


def batches(tok, rng, facts_ex, batch, cache):
    while True:
        rows = []
        for _ in range(batch):
            key = corpus.sample(rng, facts_ex)
            if key not in cache:
                cache[key] = encode_example(tok, *key)
            rows.append(cache[key])
        t = max(len(p) + len(r) for p, r in rows)
        ids = torch.zeros(batch, t, dtype=torch.long)
        tgt = torch.full((batch, t), -100, dtype=torch.long)
        for i, (p, r) in enumerate(rows):
            seq = p + r
            ids[i, : len(seq)] = torch.tensor(seq)
            # Predict the reply only: positions len(p)-1 .. len(seq)-2 predict reply tokens.
            tgt[i, len(p) - 1 : len(seq) - 1] = torch.tensor(r)
        yield ids, tgt


@torch.no_grad()
def greedy(model, tok, system, user, max_new=48):
    ids = tok.encode(corpus.chatml(system, user))
    out = []
    for _ in range(max_new):
        logits = model(torch.tensor([ids + out]))[0, -1]
        n = int(logits.argmax())
        if n == IM_END:
            break
        out.append(n)
    return tok.decode(out)


EVAL = [
    ("Name the capital of France.", "Paris"),
    ("Do you know the capital of Japan?", "Tokyo"),
    ("Which money is used in Japan?", "Yen"),
    ("Name the currency of the United Kingdom.", "Pound"),
    ("Kenya is located on which continent?", "Africa"),
    ("Sum of 23 and 19?", "42"),
    ("What's 7 + 5 equal to?", "12"),
    ("What is 58 + 36?", "94"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--merges", type=int, default=1400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(Path(__file__).parent / ".work"))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    facts_ex = corpus.fact_examples(corpus.load_facts())

    texts = [corpus.chatml(*corpus.sample(rng, facts_ex)) for _ in range(40000)]
    texts += [corpus.chatml(None, q.format(**v), a.format(**v)) for qs, a, v in facts_ex for q in qs[:2]]
    tok = Tokenizer.train([t.replace("<|im_start|>", "\n").replace("<|im_end|>", "\n") for t in texts], args.merges)
    tok.save(out / "tokenizer.json")
    print(f"vocabulary: {len(tok.pieces)} pieces", flush=True)

    model = Model(CONFIG, len(tok.pieces))
    n_params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {n_params / 1e6:.2f} M", flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.95), weight_decay=0.05)
    warm = 100
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, s / args.steps))))
    )
    cache = {}
    data = batches(tok, rng, facts_ex, args.batch, cache)
    t0 = time.time()
    for step in range(1, args.steps + 1):
        ids, tgt = next(data)
        loss = F.cross_entropy(model(ids).flatten(0, 1), tgt.flatten(), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", flush=True)
        if step % 500 == 0 or step == args.steps:
            model.eval()
            right = 0
            for q, want in EVAL:
                got = greedy(model, tok, None, q)
                right += want in got
                print(f"  {q!r} -> {got!r}", flush=True)
            print(f"  eval {right}/{len(EVAL)}", flush=True)
            model.train()
            torch.save({"config": CONFIG, "state": model.state_dict()}, out / "model.pt")
    print("done", flush=True)


if __name__ == "__main__":
    main()
