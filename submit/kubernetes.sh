#!/usr/bin/env bash
# Submits the job to Kubernetes (cluster mode).
#
# Usage: K8S_MASTER=k8s://https://API:443 SPARK_IMAGE=REGISTRY/spark:3.5-java17 \
#        JOB_JAR=s3a://BUCKET/jars/salun-spark-job.jar submit/kubernetes.sh COMMAND [--key=value ...]
# The image is any Spark 3.5 / Scala 2.12 / Java 17 image (e.g. one built with Spark's
# docker-image-tool.sh) whose Hadoop has the connector for your storage (s3a, gs). The jar and the
# data must be reachable from the pods: put the jar in object storage or bake it into the image
# (JOB_JAR=local:///opt/salun/salun-spark-job.jar). Settings travel with --files.
set -euo pipefail
source "$(dirname "$0")/common.sh"
: "${K8S_MASTER:?set K8S_MASTER=k8s://https://API-SERVER:PORT}"
: "${SPARK_IMAGE:?set SPARK_IMAGE to a Spark 3.5 / Java 17 container image}"
command="${1:?usage: submit/kubernetes.sh COMMAND [--key=value ...]}"; shift
# GPUs on Kubernetes are requested from the device plugin by vendor; the image must hold the
# discovery script at the path spark.executor.resource.gpu.discoveryScript names
gpu=(); [ "${SALUN_GPU:-0}" = 1 ] && gpu=(--conf spark.executor.resource.gpu.vendor=nvidia.com
  --conf spark.executor.resource.gpu.discoveryScript=/opt/spark/getGpusResources.sh)
exec spark-submit --master "$K8S_MASTER" --deploy-mode cluster "${gpu[@]}" \
  --name "salun-$command" \
  --properties-file "$SPARK_DEFAULTS" \
  --conf spark.kubernetes.container.image="$SPARK_IMAGE" \
  --conf spark.kubernetes.authenticate.driver.serviceAccountName="${K8S_SERVICE_ACCOUNT:-spark}" \
  --files "$SHIPPED_FILES" --class "$MAIN_CLASS" \
  "$JOB_JAR" "$command" "${SHIPPED_CONF_ARGS[@]}" "$@"
