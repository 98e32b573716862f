#!/usr/bin/env bash
# Submits the job to a Spark standalone cluster.
#
# Usage: SPARK_MASTER=spark://HOST:7077 submit/standalone.sh COMMAND [--key=value ...]
#   e.g. SPARK_MASTER=spark://head:7077 submit/standalone.sh unlearn \
#          --data.dir=hdfs:///datasets/fashion-mnist --model.path=hdfs:///models/lenet.zip \
#          --output.dir=hdfs:///unlearning/run-42
# Needs spark-submit (Spark 3.5, Scala 2.12) on PATH. Every path the job reads or writes must be
# visible to every executor (HDFS, S3, GCS, or a shared file system). Client mode: the driver runs
# here and reads conf/salun.properties locally.
set -euo pipefail
source "$(dirname "$0")/common.sh"
: "${SPARK_MASTER:?set SPARK_MASTER=spark://HOST:PORT}"
command="${1:?usage: submit/standalone.sh COMMAND [--key=value ...]}"; shift
exec spark-submit --master "$SPARK_MASTER" --deploy-mode client \
  --properties-file "$SPARK_DEFAULTS" --files "$SHIPPED_FILES" --class "$MAIN_CLASS" \
  "$JOB_JAR" "$command" "${LOCAL_CONF_ARGS[@]}" "$@"
