#!/usr/bin/env bash
# Submits the job to YARN (Hadoop clusters, EMR, Dataproc).
#
# Usage: submit/yarn.sh client|cluster COMMAND [--key=value ...]
#   e.g. submit/yarn.sh cluster unlearn --data.dir=hdfs:///datasets/fashion-mnist \
#          --model.path=hdfs:///models/lenet.zip --output.dir=hdfs:///unlearning/2026-11-27
# client:  the driver runs on this machine (logs and the result table appear here).
# cluster: the driver runs in a YARN container; conf/salun.properties travels with --files and the
#          job reads it from the container's working directory. Results: output.dir and the YARN log.
# SALUN_GPU=1: the GPU jar and settings (README, "Running on GPUs").
# Needs spark-submit on PATH and HADOOP_CONF_DIR (or YARN_CONF_DIR) pointing at the cluster's config.
set -euo pipefail
source "$(dirname "$0")/common.sh"
mode="${1:?usage: submit/yarn.sh client|cluster COMMAND [--key=value ...]}"; shift
command="${1:?usage: submit/yarn.sh client|cluster COMMAND [--key=value ...]}"; shift
case "$mode" in
  client) conf_args=("${LOCAL_CONF_ARGS[@]}") ;;
  cluster) conf_args=("${SHIPPED_CONF_ARGS[@]}") ;;
  *) echo "deploy mode: expected client or cluster, found $mode" >&2; exit 2 ;;
esac
exec spark-submit --master yarn --deploy-mode "$mode" \
  --properties-file "$SPARK_DEFAULTS" --files "$SHIPPED_FILES" --class "$MAIN_CLASS" \
  "$JOB_JAR" "$command" "${conf_args[@]}" "$@"
