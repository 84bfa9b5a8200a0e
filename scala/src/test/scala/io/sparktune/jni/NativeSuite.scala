package io.sparktune.jni

import java.io.{File, IOException}
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.util.concurrent.{Callable, Executors, TimeUnit}

import scala.jdk.CollectionConverters._
import scala.sys.process._

import org.scalatest.funsuite.AnyFunSuite

/** The JNI boundary itself: loading, exception classes, panics, handles, null arguments. */
class NativeSuite extends AnyFunSuite {

  private lazy val native = new Native()

  private val config =
    """{"space": {"sparktune_space": 1, "root": {"hp": "uniform", "label": "x", "low": 0, "high": 1}}, "seed": 7}"""

  test("the library is loaded from the packaged jar's resource, not from an override") {
    assert(System.getProperty(NativeLoader.OverrideKey) == null && System.getenv(NativeLoader.OverrideKey) == null,
      s"this test checks the packaged library: unset ${NativeLoader.OverrideKey}")
    assert(native.version().matches("""\d+\.\d+\.\d+.*"""))
    val from = NativeLoader.loadedFrom.getOrElse(fail("loaded, yet loadedFrom is empty"))
    assert(from.startsWith("jar:file:") && from.contains("/sparktune_2.13-") && from.endsWith(".jar!/" + NativeLoader.resourcePath), from)
    assert(NativeLoader.resourcePath == s"io/sparktune/native/${NativeLoader.os}/${NativeLoader.arch}/libsparktune_jni.so")
  }

  test("os and arch names are normalised as the build names the resource folders") {
    assert(NativeLoader.normaliseArch("amd64") == "x86_64")
    assert(NativeLoader.normaliseArch("x86_64") == "x86_64")
    assert(NativeLoader.normaliseArch("aarch64") == "aarch64")
    assert(NativeLoader.normaliseArch("arm64") == "aarch64")
    assert(NativeLoader.normaliseOs("Linux") == "linux")
    assert(NativeLoader.normaliseOs("Mac OS X") == "darwin")
  }

  test("a load failure names the resource and os/arch, and is remembered (a second JVM, as the failure sticks)") {
    val out = runProbe(Seq("-Dos.arch=sparc9"), "io.sparktune.jni.LoadFailureProbe")
    val lines = out.linesIterator.toVector
    assert(lines.length == 3, out)
    assert(lines(0).startsWith("first: io.sparktune.jni.SparktuneNativeException"), out)
    assert(lines(0).contains("resource io/sparktune/native/linux/sparc9/libsparktune_jni.so") &&
      lines(0).contains("os/arch linux/sparc9"), out)
    assert(lines(1).contains("remembered from the first attempt"), out)
    assert(lines(2) == "same cause: true", out)
  }

  test("a bad override names its path") {
    val out = runProbe(Seq(s"-D${NativeLoader.OverrideKey}=/nonexistent/libsparktune_jni.so"), "io.sparktune.jni.LoadFailureProbe")
    assert(out.contains("system property SPARKTUNE_NATIVE_LIB = /nonexistent/libsparktune_jni.so"), out)
  }

  test("a Rust panic arrives as SparktuneNativeException with its message, and the JVM lives on") {
    val e = intercept[SparktuneNativeException](native.testPanic("boom at 42"))
    assert(e.getMessage.contains("boom at 42") && e.getMessage.contains("panic"), e.getMessage)
    assert(e.getMessage.contains(".rs:"), s"the panic's place: ${e.getMessage}")
    val h = native.createStudy(config)
    assert(native.ask(h, 1).contains("\"id\":0"))
    native.closeStudy(h)
  }

  test("many panics in a loop, and from several threads at once, do not crash") {
    (1 to 5000).foreach { i =>
      val e = intercept[SparktuneNativeException](native.testPanic(s"panic $i"))
      assert(e.getMessage.contains(s"panic $i"))
    }
    val pool = Executors.newFixedThreadPool(4)
    try {
      val tasks = (0 until 4).map { t =>
        new Callable[Int] {
          def call(): Int = (1 to 1000).count { i =>
            try { native.testPanic(s"thread $t panic $i"); false }
            catch { case e: SparktuneNativeException => e.getMessage.contains(s"thread $t panic $i") }
          }
        }
      }
      assert(pool.invokeAll(tasks.asJava).asScala.map(_.get(60, TimeUnit.SECONDS)) == Seq(1000, 1000, 1000, 1000))
    } finally pool.shutdown()
    assert(native.version().nonEmpty)
  }

  test("a Rust error arrives by kind: invalid input, state, I/O") {
    val bad = intercept[IllegalArgumentException](
      native.validateSpace("""{"sparktune_space": 1, "root": {"hp": "uniform", "label": "lr", "low": 1, "high": 0}}"""))
    assert(bad.getMessage.contains("'lr'") && bad.getMessage.contains("low (1) must be < high (0)"), bad.getMessage)

    val h = native.createStudy(config)
    try {
      native.ask(h, 1)
      native.tell(h, 0, """{"state": "ok", "value": 1.5}""")
      val twice = intercept[IllegalStateException](native.tell(h, 0, """{"state": "ok", "value": 2.5}"""))
      assert(twice.getMessage.contains("trial 0 is ok"), twice.getMessage)
    } finally native.closeStudy(h)

    // A damaged record in the middle of a journal: an IOException naming the file and the line.
    val store = Files.createTempFile("sparktune-native-", ".journal")
    Files.delete(store)
    val withStore = config.dropRight(1) + s""", "store": "$store"}"""
    val s = native.createStudy(withStore)
    native.ask(s, 2)
    native.tell(s, 0, """{"state": "ok", "value": 1.0}""")
    native.closeStudy(s)
    val lines = Files.readAllLines(store).asScala
    Files.write(store, (lines.take(1) ++ Seq("{not json") ++ lines.drop(1)).mkString("", "\n", "\n").getBytes(StandardCharsets.UTF_8))
    try {
      val io = intercept[IOException](native.createStudy(withStore))
      assert(io.getMessage.contains(store.toString) && io.getMessage.contains("line 2"), io.getMessage)
    } finally Files.delete(store)
  }

  test("a closed or unknown handle is IllegalStateException for every method") {
    val h = native.createStudy(config)
    native.closeStudy(h)
    val uses: Seq[(String, Long => Any)] = Seq(
      "ask" -> (native.ask(_, 1)),
      "tell" -> (native.tell(_, 0, """{"state": "fail", "error": "x"}""")),
      "trials" -> (native.trials(_)),
      "best" -> (native.best(_)),
      "info" -> (native.info(_)),
      "trialsArrow" -> (native.trialsArrow(_)),
      "closeStudy" -> (native.closeStudy(_)))
    for ((name, use) <- uses; handle <- Seq(h, 0L, -1L, Long.MaxValue)) {
      val e = intercept[IllegalStateException](use(handle))
      assert(e.getMessage.contains(s"study handle $handle is closed or was never opened"), s"$name: ${e.getMessage}")
    }
  }

  test("tell of an unknown or negative trial id, ask of a negative count: IllegalArgumentException naming them") {
    val h = native.createStudy(config)
    try {
      native.ask(h, 2)
      val unknown = intercept[IllegalArgumentException](native.tell(h, 17, """{"state": "ok", "value": 1}"""))
      assert(unknown.getMessage.contains("unknown trial 17"), unknown.getMessage)
      val negative = intercept[IllegalArgumentException](native.tell(h, -3, """{"state": "ok", "value": 1}"""))
      assert(negative.getMessage.contains("-3"), negative.getMessage)
      val count = intercept[IllegalArgumentException](native.ask(h, -1))
      assert(count.getMessage.contains("n must be >= 0"), count.getMessage)
      assert(native.ask(h, 0) == "[]")
      val notJson = intercept[IllegalArgumentException](native.tell(h, 0, "{"))
      assert(notJson.getMessage.contains("outcome"), notJson.getMessage)
    } finally native.closeStudy(h)
  }

  test("null strings are IllegalArgumentException naming the argument") {
    val h = native.createStudy(config)
    try {
      val calls: Seq[(String, () => Any)] = Seq(
        "spaceJson" -> (() => native.validateSpace(null)),
        "spaceJson" -> (() => native.spaceEval(null, "{}")),
        "pointJson" -> (() => native.spaceEval("{}", null)),
        "configJson" -> (() => native.createStudy(null)),
        "outcomeJson" -> (() => native.tell(h, 0, null)),
        "pointJson" -> (() => native.enqueue(h, null)),
        "message" -> (() => native.testPanic(null)))
      for ((argument, call) <- calls) {
        val e = intercept[IllegalArgumentException](call())
        assert(e.getMessage == s"argument '$argument' is null", e.getMessage)
      }
    } finally native.closeStudy(h)
  }

  test("info and best answer the contract's JSON") {
    val h = native.createStudy(config)
    try {
      assert(native.best(h) == "null")
      native.ask(h, 1)
      native.tell(h, 0, """{"state": "ok", "value": 0.25}""")
      assert(native.best(h).contains("\"value\":0.25"))
      val info = native.info(h)
      assert(info.contains("\"direction\":\"minimize\"") && info.contains("\"n_trials\":1") && info.contains("\"labels\":[\"x\"]"), info)
    } finally native.closeStudy(h)
  }

  /** Runs `main` in a child JVM on this test's classpath; its stdout. */
  private def runProbe(jvmOptions: Seq[String], main: String): String = {
    val java = new File(System.getProperty("java.home"), "bin/java").getPath
    val command = Seq(java) ++ jvmOptions ++ Seq("-cp", System.getProperty("java.class.path"), main)
    val out = new StringBuilder
    val exit = Process(command, None, NativeLoader.OverrideKey -> "").!(ProcessLogger(l => out.append(l).append('\n'), _ => ()))
    assert(exit == 0, s"${command.mkString(" ")} exited with $exit:\n$out")
    out.toString
  }
}

/** Tries to load the library twice in a JVM where it cannot load; prints what each attempt threw. */
object LoadFailureProbe {
  def main(args: Array[String]): Unit = {
    def attempt(): SparktuneNativeException =
      try { new Native(); throw new AssertionError("the library loaded") }
      catch { case e: SparktuneNativeException => e }
    val first = attempt()
    val second = attempt()
    println(s"first: $first")
    println(s"second: $second")
    println(s"same cause: ${second.getCause eq first}")
  }
}
