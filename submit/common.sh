# Shared by the cluster recipes in submit/: locates the job jar and the defaults.
# SALUN_GPU=1 selects the GPU build (target/salun-spark-<version>-job-cuda.jar, from ./mvnw -Pcuda
# -DskipTests package), conf/spark-defaults-gpu.conf and conf/gpu.properties over salun.properties.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${SALUN_GPU:-0}" = 1 ]; then
  jar_name="job-cuda"; build="./mvnw -B -Pcuda -DskipTests package"
  SPARK_DEFAULTS="$here/conf/spark-defaults-gpu.conf"
  JOB_CONFS=("$here/conf/salun.properties" "$here/conf/gpu.properties")
  SHIPPED=("${JOB_CONFS[@]}" "$here/submit/getGpusResources.sh")
else
  jar_name="job"; build="./mvnw -B -DskipTests package"
  SPARK_DEFAULTS="$here/conf/spark-defaults.conf"
  JOB_CONFS=("$here/conf/salun.properties")
  SHIPPED=("${JOB_CONFS[@]}")
fi
JOB_JAR="${JOB_JAR:-$(ls "$here"/target/salun-spark-*-"$jar_name".jar 2>/dev/null | head -n 1)}"
if [ -z "$JOB_JAR" ] || [ ! -f "$JOB_JAR" ]; then
  echo "no job jar: build it with $build (target/salun-spark-<version>-$jar_name.jar)," >&2
  echo "or set JOB_JAR to its path (a local file, hdfs://, s3:// or gs:// URI)" >&2
  exit 2
fi
# files that travel with --files, and the job's --conf arguments for a driver on this machine
# (LOCAL_CONF_ARGS) or in the cluster, reading the shipped copies (SHIPPED_CONF_ARGS)
SHIPPED_FILES=$(IFS=,; echo "${SHIPPED[*]}")
LOCAL_CONF_ARGS=(); SHIPPED_CONF_ARGS=()
for f in "${JOB_CONFS[@]}"; do
  LOCAL_CONF_ARGS+=("--conf=$f"); SHIPPED_CONF_ARGS+=("--conf=$(basename "$f")")
done
MAIN_CLASS=io.salun.job.Main
