package io.sparktune.hyperopt

import java.io.PrintStream
import java.math.{BigDecimal, MathContext}

import io.sparktune.ml.tracking.ParamText

/**
 * fmin's status line, `sparktune fmin: 12/32 trials, running 2, failed 1, best loss 0.0123, 4.1 s`:
 * rewritten in place (a carriage return) on a terminal, at most every `inPlaceEvery` seconds; else
 * (a log file, a notebook's captured stderr) one line when the counts change, at most every
 * `lineEvery` seconds, so that a log gets no carriage returns and few lines. [[end]] shows the
 * final counts and ends the line.
 *
 * @param total   the trials asked for (maxEvals)
 * @param inPlace rewrite one line (a terminal) rather than print one line per change
 * @param clock   nanoseconds (System.nanoTime; tests pass their own)
 */
final class ProgressLine(
    out: PrintStream,
    total: Int,
    inPlace: Boolean,
    inPlaceEvery: Double = 0.2,
    lineEvery: Double = 5.0,
    clock: () => Long = () => System.nanoTime()) {

  private val start = clock()
  private var shownAt = Long.MinValue
  private var shownCounts = ""
  private var counts = ProgressLine.text(0, total, 0, 0, 0, None)
  private var width = 0
  private var ended = false

  /** The latest counts; shown if the line is due (`done` counts every finished trial, cancelled ones too). */
  def update(done: Int, running: Int, failed: Int, cancelled: Int, best: Option[Double]): Unit = {
    counts = ProgressLine.text(done, total, running, failed, cancelled, best)
    refresh()
  }

  /** Shows the line again if it is due: in place, the seconds go on between changes. */
  def refresh(): Unit = if (!ended) {
    val now = clock()
    val every = if (inPlace) inPlaceEvery else lineEvery
    val due = shownAt == Long.MinValue || (now - shownAt) / 1e9 >= every
    if (due && (inPlace || counts != shownCounts)) show(now, last = false)
  }

  /** The final counts, and the line ended with a newline. */
  def end(): Unit = if (!ended) {
    show(clock(), last = true)
    ended = true
  }

  /** What the line says now. */
  def text(now: Long = clock()): String = f"$counts, ${(now - start) / 1e9}%.1f s"

  private def show(now: Long, last: Boolean): Unit = {
    val line = text(now)
    if (inPlace) {
      // Spaces rub out the end of a longer line shown before.
      out.print("\r" + line + " " * math.max(0, width - line.length) + (if (last) "\n" else ""))
      width = line.length
    } else out.println(line)
    out.flush()
    shownAt = now
    shownCounts = counts
  }
}

object ProgressLine {

  /** The line on stderr, in place when the JVM runs in a terminal. */
  def stderr(total: Int): ProgressLine = new ProgressLine(System.err, total, inPlace = System.console() != null)

  /** `sparktune fmin: 12/32 trials, running 2, failed 1, best loss 0.0123` (cancelled and failed only when some). */
  def text(done: Int, total: Int, running: Int, failed: Int, cancelled: Int, best: Option[Double]): String = {
    val parts = Seq(s"sparktune fmin: $done/$total trials", s"running $running") ++
      Option(failed).filter(_ > 0).map(n => s"failed $n") ++
      Option(cancelled).filter(_ > 0).map(n => s"cancelled $n") ++
      best.map(b => s"best loss ${fourDigits(b)}")
    parts.mkString(", ")
  }

  /** 4 significant digits, as Python shows a float (0.0123, 1.235e-05). */
  private def fourDigits(x: Double): String =
    if (x.isNaN || x.isInfinite || x == 0.0) ParamText.show(x)
    else ParamText.show(new BigDecimal(x).round(new MathContext(4)).doubleValue)
}
