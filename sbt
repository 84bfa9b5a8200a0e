#!/usr/bin/env bash
# Runs sbt, bootstrapping its launcher from Maven Central: no sbt is installed on our machines, and Maven
# Central is the only JVM repository they reach, so project/repositories pins every resolution to it.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="$(sed -n 's/^sbt\.version *= *//p' "$root/project/build.properties")"
cache="${SPARKTUNE_SBT_CACHE:-$HOME/.cache/sparktune/sbt}"
jar="$cache/sbt-launch-$version.jar"
url="https://repo1.maven.org/maven2/org/scala-sbt/sbt-launch/$version/sbt-launch-$version.jar"

if [ ! -s "$jar" ]; then
  mkdir -p "$cache"
  echo "sbt: fetching the sbt $version launcher from Maven Central" >&2
  tmp="$(mktemp "$cache/sbt-launch.XXXXXX")"
  curl -fsSL --retry 3 -o "$tmp" "$url"
  expected="$(curl -fsSL --retry 3 "$url.sha1" | cut -c1-40)"
  actual="$(sha1sum "$tmp" | cut -c1-40)"
  if [ "$expected" != "$actual" ]; then
    rm -f "$tmp"
    echo "sbt: checksum mismatch for $url (expected $expected, got $actual)" >&2
    exit 1
  fi
  mv "$tmp" "$jar"
fi

exec java ${SBT_OPTS:--Xms512m -Xmx3g -Xss4m} \
  -Dsbt.repository.config="$root/project/repositories" \
  -Dsbt.override.build.repos=true \
  -Dsbt.boot.directory="$cache/boot" \
  -Dsbt.server.forcestart=false \
  -Dsbt.color=auto \
  -jar "$jar" "$@"
