#!/usr/bin/env bash
# Submits the job to a Dataproc cluster (image 2.2: Spark 3.5, Java 11/17).
#
# Usage: CLUSTER=NAME REGION=REGION JOB_JAR=gs://BUCKET/salun-spark-job.jar \
#        submit/dataproc.sh COMMAND [--key=value ...]
#   e.g. ... submit/dataproc.sh unlearn --data.dir=gs://BUCKET/fashion-mnist \
#          --model.path=gs://BUCKET/models/lenet.zip --output.dir=gs://BUCKET/unlearning/run-1
# Upload the jar first: gsutil cp target/salun-spark-*-job.jar gs://BUCKET/. Settings travel
# with --files; Spark properties from conf/spark-defaults.conf are passed with --properties.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
: "${CLUSTER:?set CLUSTER}"; : "${REGION:?set REGION}"; : "${JOB_JAR:?set JOB_JAR=gs://.../salun-spark-job.jar}"
command="${1:?usage: submit/dataproc.sh COMMAND [--key=value ...]}"; shift
defaults="$here/conf/spark-defaults.conf"; confs="$here/conf/salun.properties"; conf_args=(--conf=salun.properties)
if [ "${SALUN_GPU:-0}" = 1 ]; then
  # GPU node pools (e.g. --worker-accelerator type=nvidia-tesla-t4) and the -Pcuda jar as JOB_JAR
  defaults="$here/conf/spark-defaults-gpu.conf"; confs="$confs,$here/conf/gpu.properties,$here/submit/getGpusResources.sh"
  conf_args+=(--conf=gpu.properties)
fi
props=$(grep -v '^\s*#' "$defaults" | awk 'NF==2 {printf "%s%s=%s", sep, $1, $2; sep=","}')
exec gcloud dataproc jobs submit spark --cluster="$CLUSTER" --region="$REGION" \
  --class=io.salun.job.Main --jars="$JOB_JAR" --files="$confs" \
  --properties="$props" \
  -- "$command" "${conf_args[@]}" "$@"
