#!/usr/bin/env bash
# The GPU check of the training path: fine-tuning with a pretrained encoder on CUDA, fp32 vs mixed
# precision (bf16 or fp16 + GradScaler) with gradient accumulation; prints questions/s and accuracy.
# Run it on a machine with a CUDA GPU and a CUDA build of torch, from the repository root:
#   bash scripts/check-cuda.sh [--scenes 600] [--epochs 3]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
"$PY" -c "import transformers" 2>/dev/null || "$PY" -m pip install -q "transformers>=4.45,<6"
exec "$PY" scripts/check_cuda.py "$@"
