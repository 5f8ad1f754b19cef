"""Writes the trained demo model as a GGUF file (llama architecture, SentencePiece-style vocabulary, ChatML
template) with the gguf-py writer from the llama.cpp source that node-llama-cpp ships.

  .venv/bin/python model/export_gguf.py model/.work model/cocoon-demo.gguf
"""

import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / ".work" / "llama.cpp" / "gguf-py"))
import gguf  # noqa: E402

from tokenizer import BOS, EOS, IM_END, UNK, Tokenizer  # noqa: E402

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def main(work, out):
    work = Path(work)
    ckpt = torch.load(work / "model.pt", map_location="cpu")
    c, sd = ckpt["config"], ckpt["state"]
    tok = Tokenizer.load(work / "tokenizer.json")
    w = gguf.GGUFWriter(out, "llama")
    w.add_name("Cocoon demo model")
    w.add_description(
        "A tiny model trained for the Cocoon demo network: capitals, currencies, languages and continents of "
        "countries (from the countries-list package), and sums of numbers from 0 to 99."
    )
    w.add_context_length(c["context"])
    w.add_embedding_length(c["dim"])
    w.add_block_count(c["layers"])
    w.add_feed_forward_length(c["ffn"])
    w.add_head_count(c["heads"])
    w.add_head_count_kv(c["heads"])
    w.add_rope_dimension_count(c["dim"] // c["heads"])
    w.add_rope_freq_base(c["rope_base"])
    w.add_layer_norm_rms_eps(c["norm_eps"])
    w.add_vocab_size(len(tok.pieces))
    w.add_file_type(gguf.LlamaFileType.ALL_F32)

    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tok.pieces)
    w.add_token_scores(tok.scores)
    w.add_token_types(tok.types)
    w.add_bos_token_id(BOS)
    w.add_eos_token_id(IM_END)
    w.add_unk_token_id(UNK)
    w.add_pad_token_id(EOS)
    w.add_add_bos_token(False)
    w.add_add_eos_token(False)
    w.add_add_space_prefix(False)
    w.add_chat_template(CHAT_TEMPLATE)

    def t(name, key):
        w.add_tensor(name, sd[key].detach().float().numpy().astype(np.float32))

    t("token_embd.weight", "embed.weight")
    for i in range(c["layers"]):
        p = f"blocks.{i}."
        t(f"blk.{i}.attn_norm.weight", p + "attn_norm.weight")
        t(f"blk.{i}.attn_q.weight", p + "q.weight")
        t(f"blk.{i}.attn_k.weight", p + "k.weight")
        t(f"blk.{i}.attn_v.weight", p + "v.weight")
        t(f"blk.{i}.attn_output.weight", p + "o.weight")
        t(f"blk.{i}.ffn_norm.weight", p + "ffn_norm.weight")
        t(f"blk.{i}.ffn_gate.weight", p + "gate.weight")
        t(f"blk.{i}.ffn_up.weight", p + "up.weight")
        t(f"blk.{i}.ffn_down.weight", p + "down.weight")
    t("output_norm.weight", "norm.weight")
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(f"wrote {out}")
    write_tokenizer_check(tok, Path(out).with_name("tokenizer-check.json"))


CHECK_TEXTS = [
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n",
    "The capital of Côte d'Ivoire is Yamoussoukro.",
    "23 + 19 = 42.",
    "What's 7 + 5 equal to?",
    "  two  spaces\tand a tab",
    "São Tomé and Príncipe uses the São Tomé and Príncipe Dobra.",
    "emoji 🙂 and 日本",
    "unknownwordzzz qxj",
    "In Switzerland people speak German, French, Italian and Romansh.",
    "<|im_end|><|im_end|>",
    "Hello! <s> </s> <unk>",
]


def write_tokenizer_check(tok, path):
    """Token ids this pipeline trained with, for a test that node-llama-cpp tokenizes the same."""
    import json

    rows = [{"text": t, "ids": tok.encode(t)} for t in CHECK_TEXTS]
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
