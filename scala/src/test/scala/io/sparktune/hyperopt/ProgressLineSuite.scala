package io.sparktune.hyperopt

import java.io.{ByteArrayOutputStream, PrintStream}
import java.nio.charset.StandardCharsets

import org.scalatest.funsuite.AnyFunSuite

/** fmin's status line on a captured stream, with a clock the test moves. */
class ProgressLineSuite extends AnyFunSuite {

  private final class Captured(inPlace: Boolean) {
    val bytes = new ByteArrayOutputStream()
    var now = 0L
    val line = new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), total = 32, inPlace = inPlace,
      inPlaceEvery = 0.2, lineEvery = 5.0, clock = () => now)
    def seconds(s: Double): Unit = now += (s * 1e9).toLong
    def text: String = bytes.toString(StandardCharsets.UTF_8)
  }

  test("the text: counts, failed and cancelled only when some, the best loss in 4 digits") {
    assert(ProgressLine.text(12, 32, 2, 1, 0, Some(0.0123)) ==
      "sparktune fmin: 12/32 trials, running 2, failed 1, best loss 0.0123")
    assert(ProgressLine.text(0, 8, 2, 0, 0, None) == "sparktune fmin: 0/8 trials, running 2")
    assert(ProgressLine.text(8, 8, 0, 0, 3, Some(1.23456e-5)) ==
      "sparktune fmin: 8/8 trials, running 0, cancelled 3, best loss 1.235e-05")
    assert(ProgressLine.text(1, 8, 0, 0, 0, Some(1234567.0)) ==
      "sparktune fmin: 1/8 trials, running 0, best loss 1235000.0")
  }

  test("on a terminal: rewritten in place at most every 0.2 s, the seconds going on, ended with a newline") {
    val c = new Captured(inPlace = true)
    c.line.update(0, 2, 0, 0, None)
    assert(c.text == "\rsparktune fmin: 0/32 trials, running 2, 0.0 s")
    c.seconds(0.1)
    c.line.update(1, 2, 0, 0, Some(0.5))
    assert(c.text == "\rsparktune fmin: 0/32 trials, running 2, 0.0 s", "shown again within 0.2 s")
    c.seconds(0.2)
    c.line.refresh()
    assert(c.text.endsWith("\rsparktune fmin: 1/32 trials, running 2, best loss 0.5, 0.3 s"), c.text)
    c.seconds(1.0)
    c.line.refresh() // no change but the seconds
    assert(c.text.endsWith("best loss 0.5, 1.3 s"), c.text)
    c.line.update(32, 0, 1, 0, Some(0.25))
    c.line.end()
    val last = "\rsparktune fmin: 32/32 trials, running 0, failed 1, best loss 0.25, 1.3 s\n"
    assert(c.text.endsWith(last), c.text)
    assert(!c.text.dropRight(1).contains("\n"), "one line, rewritten")
    c.line.update(0, 0, 0, 0, None)
    assert(c.text.endsWith(last), "nothing after the end")
  }

  test("a shorter line rubs out the end of the longer one before it") {
    val c = new Captured(inPlace = true)
    c.line.update(3, 2, 1, 0, Some(0.5))
    c.seconds(1.0)
    c.line.update(3, 2, 0, 0, None)
    val lines = c.text.split('\r').filter(_.nonEmpty)
    assert(lines.length == 2 && lines(1).length == lines(0).length, lines.toSeq)
    assert(lines(1).endsWith("1.0 s" + " " * 25), lines.toSeq)
  }

  test("not a terminal: one line per change at most every 5 s, none without a change") {
    val c = new Captured(inPlace = false)
    c.line.update(0, 2, 0, 0, None)
    c.seconds(1.0)
    c.line.update(1, 2, 0, 0, Some(2.0))
    c.seconds(5.0)
    c.line.refresh() // due, changed: shown
    c.seconds(6.0)
    c.line.refresh() // due, unchanged: not shown
    c.line.end()
    assert(c.text.split("\n").toSeq == Seq(
      "sparktune fmin: 0/32 trials, running 2, 0.0 s",
      "sparktune fmin: 1/32 trials, running 2, best loss 2.0, 6.0 s",
      "sparktune fmin: 1/32 trials, running 2, best loss 2.0, 12.0 s"), c.text)
    assert(!c.text.contains("\r") && c.text.endsWith("\n"))
  }
}
