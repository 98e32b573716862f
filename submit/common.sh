# Shared by the cluster recipes in submit/: locates the job jar and the defaults.
# shellcheck shell=bash
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JOB_JAR="${JOB_JAR:-$(ls "$here"/target/salun-spark-*-job.jar 2>/dev/null | head -n 1)}"
if [ -z "$JOB_JAR" ] || [ ! -f "$JOB_JAR" ]; then
  echo "no job jar: build it with ./mvnw -B -DskipTests package (target/salun-spark-<version>-job.jar)," >&2
  echo "or set JOB_JAR to its path (a local file, hdfs://, s3:// or gs:// URI)" >&2
  exit 2
fi
SPARK_DEFAULTS="$here/conf/spark-defaults.conf"
JOB_CONF="$here/conf/salun.properties"
MAIN_CLASS=io.salun.job.Main
