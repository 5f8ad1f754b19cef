#!/usr/bin/env bash
# Rebuilds model/cocoon-demo.gguf from scratch on CPU (about 30–40 minutes on 2 cores):
#   1. a Python venv with PyTorch (CPU wheel; PIP_FIND_LINKS may point at a local wheel folder),
#   2. llama.cpp's gguf-py writer, from the llama.cpp source bundled in node-llama-cpp (npm install first),
#   3. training (model/train.py) on data generated from the countries-list package,
#   4. export to GGUF (model/export_gguf.py) plus model/tokenizer-check.json for the tokenizer test.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=model/.work
mkdir -p "$WORK"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv --system-site-packages .venv
fi
if ! .venv/bin/python -c 'import torch' 2>/dev/null; then
  if [ -d /opt/wheels ]; then
    .venv/bin/pip install --no-index --find-links /opt/wheels --no-deps torch
  else
    .venv/bin/pip install torch --index-url https://download.pytorch.org/whl/cpu
  fi
fi
.venv/bin/python -c 'import numpy' 2>/dev/null || .venv/bin/pip install numpy
if [ ! -d "$WORK/llama.cpp/gguf-py" ]; then
  git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle "$WORK/llama.cpp"
fi
.venv/bin/python model/train.py --steps "${STEPS:-3000}" --seed "${SEED:-1}" --out "$WORK" | tee "$WORK/train.log"
.venv/bin/python model/export_gguf.py "$WORK" model/cocoon-demo.gguf
sha256sum model/cocoon-demo.gguf
