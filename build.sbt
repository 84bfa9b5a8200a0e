// sparktune's JVM side: the Scala layer over the Rust core. The Rust cdylib is built by cargo and
// packaged into the jar (project/NativeLibrary.scala), so one jar is all a Spark user adds.

val sparkVersion = "4.1.0" // the newest Spark on Maven Central; python/pyproject.toml pins pyspark to the same

ThisBuild / organization := "io.sparktune"
ThisBuild / version := "0.1.0-SNAPSHOT"
ThisBuild / scalaVersion := "2.13.17"

lazy val root = (project in file("."))
  .aggregate(sparktune)
  .settings(publish / skip := true)

lazy val sparktune = (project in file("scala"))
  .settings(
    name := "sparktune",
    libraryDependencies ++= Seq(
      "org.apache.spark" %% "spark-core" % sparkVersion % Provided,
      "org.apache.spark" %% "spark-sql" % sparkVersion % Provided,
      "org.apache.spark" %% "spark-mllib" % sparkVersion % Provided,
      "org.scalatest" %% "scalatest" % "3.2.19" % Test
    ),
    scalacOptions ++= Seq("-deprecation", "-feature", "-unchecked", "-release", "17"),
    // cargo builds the JNI library into the jar's resources (project/NativeLibrary.scala), so that
    // `package` gives one jar with the library inside.
    Compile / resourceGenerators += Def.task {
      Seq(NativeLibrary.build((ThisBuild / baseDirectory).value, (Compile / resourceManaged).value, streams.value.log))
    }.taskValue,
    // Tests load the library the way users do: from the packaged jar, not from a classes directory.
    exportJars := true,
    Test / fork := true,
    Test / parallelExecution := false,
    Test / javaOptions ++= Seq("-Xmx4g") ++ sparkJava17Options
  )

// What Spark's own launcher passes to a Java 17 JVM (JavaModuleOptions); forked tests need the same.
lazy val sparkJava17Options = Seq(
  "-XX:+IgnoreUnrecognizedVMOptions",
  "--add-opens=java.base/java.lang=ALL-UNNAMED",
  "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
  "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
  "--add-opens=java.base/java.io=ALL-UNNAMED",
  "--add-opens=java.base/java.net=ALL-UNNAMED",
  "--add-opens=java.base/java.nio=ALL-UNNAMED",
  "--add-opens=java.base/java.util=ALL-UNNAMED",
  "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
  "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
  "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
  "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
  "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
  "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
  "-Djdk.reflect.useDirectMethodHandle=false",
  "-Dio.netty.tryReflectionSetAccessible=true"
)
