#!/usr/bin/env bash
# Spark GPU discovery script (spark.executor.resource.gpu.discoveryScript, and for standalone
# Workers spark.worker.resource.gpu.discoveryScript): prints the GPUs of this node as the JSON
# Spark reads, e.g. {"name": "gpu", "addresses": ["0", "1"]}. The addresses are CUDA device
# indices, which is what the job binds each task's ND4J work to. Needs nvidia-smi (NVIDIA driver).
set -euo pipefail
indices=$(nvidia-smi --query-gpu=index --format=csv,noheader)
addresses=""
for i in $indices; do
  addresses="${addresses:+$addresses, }\"$i\""
done
echo "{\"name\": \"gpu\", \"addresses\": [$addresses]}"
