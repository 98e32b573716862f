#!/usr/bin/env bash
# Runs the salun-spark job on this machine with an embedded Spark master (local[*]).
#
# Usage: submit/local.sh [COMMAND] [--key=value ...]
#   no arguments   the default job: train the LeNet on Fashion-MNIST if no cached model exists,
#                  then forget a seeded 10% of its training data with SalUn (conf/local.properties)
#   COMMAND        train | unlearn | train-diffusion | unlearn-diffusion | benchmark | bench | audit | verify | settings (lists every setting with its value and meaning)
#                  benchmark runs the reference protocol of conf/benchmark.properties (random10 and class0)
#   --key=value    overrides any setting of conf/salun.properties and conf/local.properties
#
# Environment: JAVA_OPTS (default -Xmx6g), OMP_NUM_THREADS (default 1: one ND4J thread per Spark
# task, as every core already runs a task), ND4J_NATIVE_CLASSIFIER (default: the pom's, the oneDNN
# build linux-x86_64-onednn; linux-x86_64 is the plain OpenBLAS-only build, ~3-4x slower, docs/PERFORMANCE.md).
set -euo pipefail
cd "$(dirname "$0")/.."

command="${1:-unlearn}"
[ $# -gt 0 ] && shift

data_dir=/usr/share/datasets/fashion-mnist
for arg in "$@"; do
  case "$arg" in --data.dir=*) data_dir="${arg#--data.dir=}" ;; esac
done
if [ "$command" != settings ] && [ "$data_dir" = /usr/share/datasets/fashion-mnist ] && [ ! -f "$data_dir/train-images-idx3-ubyte.gz" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Fashion-MNIST is missing: installing the Debian package dataset-fashion-mnist" >&2
    apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist >&2
  else
    echo "Fashion-MNIST is missing at $data_dir. Install it with:" >&2
    echo "  sudo apt-get install -y dataset-fashion-mnist" >&2
    echo "or pass --data.dir=FOLDER holding the four IDX files." >&2
    exit 2
  fi
fi

./mvnw -q -B -DskipTests ${ND4J_NATIVE_CLASSIFIER:+-Dnd4j.native.classifier=$ND4J_NATIVE_CLASSIFIER} \
  compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=compile >&2

opens="-XX:+IgnoreUnrecognizedVMOptions --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED -Djdk.reflect.useDirectMethodHandle=false"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"

confs=(--conf=conf/salun.properties --conf=conf/local.properties)
[ "$command" = benchmark ] && confs+=(--conf=conf/benchmark.properties)
[ "$command" = bench ] && confs+=(--conf=conf/bench.properties)
case "$command" in train-diffusion|unlearn-diffusion) confs+=(--conf=conf/diffusion.properties) ;; esac

# shellcheck disable=SC2086
exec java $opens ${JAVA_OPTS:--Xmx6g} -Dlog4j2.configurationFile=conf/log4j2.properties \
  -cp "target/classes:$(cat target/classpath.txt)" io.salun.job.Main "$command" \
  "${confs[@]}" "$@"
