package io.sparktune.bench

import java.nio.file.Files

import io.sparktune.{Outcome, Study}
import io.sparktune.space.{Hp, SearchSpace}

/**
 * Microseconds per ask + tell through JNI (Scala Study -> JSON -> Rust -> JSON -> Jackson), random
 * sampler, with 1,000 trials already in the history, in memory and with a store (whose tell fsyncs).
 * Prints figures, asserts nothing:
 * `flock /tmp/sparktune-sbt.lock ./sbt "sparktune/Test/runMain io.sparktune.bench.AskTellBench"`.
 */
object AskTellBench {

  private val space = SearchSpace(Hp.dict(
    "lr" -> Hp.loguniform("lr", -7.0, 0.0),
    "reg" -> Hp.uniform("reg", 0.0, 1.0),
    "depth" -> Hp.randint("depth", 2, 12),
    "model" -> Hp.choice("model", "lr", Map("trees" -> Hp.uniformint("trees", 10, 200, 10)))))

  private val History = 1000

  def main(args: Array[String]): Unit = {
    val rounds = args.headOption.map(_.toInt).getOrElse(2000)
    println(s"sparktune ask+tell through JNI: random sampler, $History trials in history, $rounds rounds after warm-up")
    run("in memory", None, rounds)
    val dir = Files.createTempDirectory("sparktune-bench-")
    val journal = dir.resolve("bench.journal")
    try run("with a store", Some(journal.toString), rounds / 4)
    finally { Files.deleteIfExists(journal); Files.delete(dir) }
    measureParts(rounds)
  }

  private def fill(study: Study, n: Int): Unit =
    study.ask(n).foreach(t => study.tell(t.id, Outcome.ok(t.point("reg"), Map("m" -> 1.0))))

  private def run(name: String, store: Option[String], rounds: Int): Unit = {
    val study = Study.create(space, seed = 1, store = store)
    try {
      fill(study, History)
      // Warm-up: JIT of the Scala and Jackson paths; the history grows by as much, kept small beside it.
      askTell(study, rounds / 4)
      val micros = askTell(study, rounds)
      println(f"  $name%-14s ${micros.sum / micros.length}%8.1f us mean, ${percentile(micros, 0.5)}%8.1f us median, " +
        f"${percentile(micros, 0.99)}%8.1f us p99 per ask(1) + tell")
    } finally study.close()
  }

  private def askTell(study: Study, rounds: Int): Array[Double] = Array.fill(rounds) {
    val start = System.nanoTime()
    val t = study.ask(1).head
    study.tell(t.id, Outcome.ok(t.point("reg")))
    (System.nanoTime() - start) / 1e3
  }

  /** The parts of a round: the study's other reads, whose cost grows with the history (JSON of every trial). */
  private def measureParts(rounds: Int): Unit = {
    val study = Study.create(space, seed = 2)
    try {
      fill(study, History)
      def time(what: String, n: Int)(f: => Any): Unit = {
        (1 to n / 4).foreach(_ => f)
        val start = System.nanoTime()
        (1 to n).foreach(_ => f)
        println(f"  $what%-34s ${(System.nanoTime() - start) / 1e3 / n}%10.1f us")
      }
      time("best", rounds)(study.best)
      time("warnings (info)", rounds)(study.warnings)
      time(s"trials (all ${study.numTrials})", rounds / 20)(study.trials)
      time(s"trialsArrow (${study.numTrials} rows)", rounds / 20)(study.trialsArrow)
    } finally study.close()
  }

  private def percentile(xs: Array[Double], p: Double): Double = {
    val sorted = xs.sorted
    sorted(math.min(sorted.length - 1, (p * sorted.length).toInt))
  }
}
