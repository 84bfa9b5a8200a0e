package io.sparktune.space

import org.scalatest.funsuite.AnyFunSuite

import io.sparktune.Study
import io.sparktune.jni.Native

/**
 * Each rule of the contract's schema 1 arrives in Scala as an IllegalArgumentException naming the
 * label (or the JSON path when there is none) and the rule: from spaces built with Hp and from raw JSON,
 * through SearchSpace.validate and through Study.create.
 */
class SpaceValidationSuite extends AnyFunSuite {

  private def doc(root: String) = s"""{"sparktune_space": 1, "root": $root}"""

  /** The message of the IllegalArgumentException that validating `space`, and creating a study on it, throw. */
  private def refusal(space: => SearchSpace): String = {
    val byValidate = intercept[IllegalArgumentException](space.validate()).getMessage
    val byStudy = intercept[IllegalArgumentException](Study.create(space)).getMessage
    assert(byValidate == byStudy)
    byValidate
  }

  private def assertRefused(space: => SearchSpace, label: String, rule: String): Unit = {
    val message = refusal(space)
    assert(message.contains(s"'$label'") && message.contains(rule), s"expected label '$label' and '$rule' in: $message")
  }

  /** (rule, label, the space built with Hp, the same space as raw JSON, what the message says). */
  private val rules: Seq[(String, String, () => Expr, String, String)] = Seq(
    ("low >= high", "lr", () => Hp.uniform("lr", 1.0, 0.5),
      """{"hp": "uniform", "label": "lr", "low": 1.0, "high": 0.5}""", "low (1) must be < high (0.5)"),
    ("low == high for randint", "depth", () => Hp.randint("depth", 5, 5),
      """{"hp": "randint", "label": "depth", "low": 5, "high": 5}""", "low (5) must be < high (5)"),
    ("empty choice", "c", () => Hp.choice("c"),
      """{"hp": "choice", "label": "c", "options": []}""", "empty choice"),
    ("empty pchoice", "pc", () => Hp.pchoice("pc"),
      """{"hp": "pchoice", "label": "pc", "options": []}""", "empty choice"),
    ("q <= 0", "step", () => Hp.quniform("step", 0.0, 1.0, 0.0),
      """{"hp": "quniform", "label": "step", "low": 0, "high": 1, "q": 0}""", "q (0) must be > 0"),
    ("negative q for uniformint", "n", () => Hp.uniformint("n", 0.0, 10.0, -2.0),
      """{"hp": "uniformint", "label": "n", "low": 0, "high": 10, "q": -2}""", "q (-2) must be > 0"),
    ("sigma <= 0", "noise", () => Hp.normal("noise", 0.0, -1.0),
      """{"hp": "normal", "label": "noise", "mu": 0, "sigma": -1}""", "sigma (-1) must be > 0"),
    ("sigma == 0 for qlognormal", "ql", () => Hp.qlognormal("ql", 0.0, 0.0, 1.0),
      """{"hp": "qlognormal", "label": "ql", "mu": 0, "sigma": 0, "q": 1}""", "sigma (0) must be > 0"),
    ("pchoice p < 0", "p", () => Hp.pchoice("p", -0.5 -> "a", 1.5 -> "b"),
      """{"hp": "pchoice", "label": "p", "options": [{"p": -0.5, "value": {"const": "a"}}, {"p": 1.5, "value": {"const": "b"}}]}""",
      "p (-0.5) must be >= 0"),
    ("pchoice sum != 1", "p", () => Hp.pchoice("p", 0.5 -> "a", 0.4 -> "b"),
      """{"hp": "pchoice", "label": "p", "options": [{"p": 0.5, "value": {"const": "a"}}, {"p": 0.4, "value": {"const": "b"}}]}""",
      "sum to 0.9"),
    ("duplicate label, the second inside a choice option", "x",
      () => Hp.dict("a" -> Hp.uniform("x", 0.0, 1.0), "b" -> Hp.choice("c", Hp.uniform("x", 0.0, 2.0), 1)),
      """{"dict": {"a": {"hp": "uniform", "label": "x", "low": 0, "high": 1},
        |  "b": {"hp": "choice", "label": "c", "options": [{"hp": "uniform", "label": "x", "low": 0, "high": 2}, {"const": 1}]}}}""".stripMargin,
      "duplicate label"),
    ("unknown hp kind", "t", () => Expr.Numeric("triangular", "t", Seq("low" -> 0.0, "high" -> 1.0)),
      """{"hp": "triangular", "label": "t", "low": 0, "high": 1}""", "unknown hp kind 'triangular'"),
    ("unknown key", "u", () => Expr.Numeric("uniform", "u", Seq("low" -> 0.0, "high" -> 1.0, "q" -> 0.5)),
      """{"hp": "uniform", "label": "u", "low": 0, "high": 1, "q": 0.5}""", "unknown key 'q'"),
    ("missing field", "u", () => Expr.Numeric("uniform", "u", Seq("low" -> 0.0)),
      """{"hp": "uniform", "label": "u", "low": 0}""", "missing field 'high'"))

  for ((rule, label, built, raw, says) <- rules) {
    test(s"rule '$rule': from Hp") {
      assertRefused(SearchSpace(built()), label, says)
    }
    test(s"rule '$rule': from raw JSON") {
      assertRefused(SearchSpace.fromJson(doc(raw)), label, says)
      // The same text straight to the native method.
      val direct = intercept[IllegalArgumentException](new Native().validateSpace(doc(raw))).getMessage
      assert(direct.contains(s"'$label'") && direct.contains(says), direct)
    }
  }

  test("rule 'NaN/inf': from Hp, refused when built (JSON cannot carry it), naming the label") {
    val nan = intercept[IllegalArgumentException](Hp.uniform("nanny", Double.NaN, 1.0))
    assert(nan.getMessage.contains("'nanny'") && nan.getMessage.contains("low is NaN"), nan.getMessage)
    val inf = intercept[IllegalArgumentException](Hp.normal("wide", 0.0, Double.PositiveInfinity))
    assert(inf.getMessage.contains("'wide'") && inf.getMessage.contains("sigma is Infinity"), inf.getMessage)
    val p = intercept[IllegalArgumentException](Hp.pchoice("pp", Double.NaN -> "a", 1.0 -> "b"))
    assert(p.getMessage.contains("'pp'") && p.getMessage.contains("option 0: p is NaN"), p.getMessage)
    val const = intercept[IllegalArgumentException](Hp.choice("k", 1.0, Double.NaN))
    assert(const.getMessage.contains("NaN"), const.getMessage)
  }

  test("rule 'NaN/inf': from raw JSON, an overflowing number is refused by the parser") {
    val space = SearchSpace.fromJson(doc("""{"hp": "uniform", "label": "big", "low": 0, "high": 1e999}"""))
    val message = intercept[IllegalArgumentException](space.validate()).getMessage
    assert(message.contains("malformed JSON in search space") && message.contains("line 1"), message)
    // Inside a study config the parser meets it first: the config is what is malformed then.
    val inStudy = intercept[IllegalArgumentException](Study.create(space)).getMessage
    assert(inStudy.contains("malformed JSON in study config"), inStudy)
  }

  test("rule 'malformed JSON': refused with the parser's position, in Scala and in the core") {
    val scala = intercept[IllegalArgumentException](SearchSpace.fromJson("""{"sparktune_space": 1, "root": """))
    assert(scala.getMessage.contains("search space: malformed JSON"), scala.getMessage)
    val core = intercept[IllegalArgumentException](new Native().validateSpace("""{"sparktune_space": 1, "root": """))
    assert(core.getMessage.contains("malformed JSON in search space") && core.getMessage.contains("line 1"), core.getMessage)
    val trailing = intercept[IllegalArgumentException](SearchSpace.fromJson(doc("""{"const": 1}""") + " {}"))
    assert(trailing.getMessage.contains("malformed JSON"), trailing.getMessage)
  }

  test("rule 'schema version': wrong or missing") {
    val wrong = refusal(SearchSpace.fromJson("""{"sparktune_space": 2, "root": {"const": 1}}"""))
    assert(wrong.contains("schema version: 2") && wrong.contains("expected \"sparktune_space\": 1"), wrong)
    val missing = refusal(SearchSpace.fromJson("""{"root": {"const": 1}}"""))
    assert(missing.contains("schema version: missing"), missing)
  }

  test("rule 'a node of no form': named by its JSON path") {
    val message = refusal(SearchSpace.fromJson(doc("""{"dict": {"a": {"kind": "uniform"}}}""")))
    assert(message.contains("/root/dict/a") && message.contains("not a search-space node"), message)
    val number = refusal(SearchSpace.fromJson(doc("""{"list": [{"const": 1}, 5]}""")))
    assert(number.contains("/root/list/1"), number)
  }

  test("a valid space: labels in first-appearance order, and eval of a raw point") {
    val space = SearchSpace(Hp.dict(
      "model" -> Hp.choice("model",
        Map("kind" -> "lr", "reg" -> Hp.loguniform("reg", -5.0, 0.0)),
        Map("kind" -> "tree", "depth" -> Hp.randint("depth", 2, 10))),
      "seed" -> 3,
      "tags" -> Seq("a", Hp.uniformint("n", 1.0, 4.0))))
    assert(space.labels == Seq("model", "reg", "depth", "n"))
    val values = space.eval(Map("model" -> 1.0, "depth" -> 7.0, "n" -> 2.0))
    assert(values.toString == """{"model":{"kind":"tree","depth":7},"seed":3,"tags":["a",2]}""")
    assert(SearchSpace.fromJson(space.toJson).labels == space.labels)
  }

  test("Scala values become consts, Maps dicts, Seqs lists; unknown types are refused") {
    val e = Hp.choice("c", "s", 1, 2L, 1.5, true, null, None, Some("x"), BigDecimal("0.1"), Seq(1, 2), Map("k" -> 'v'))
    assert(e.toJson ==
      """{"hp":"choice","label":"c","options":[{"const":"s"},{"const":1},{"const":2},{"const":1.5},{"const":true},""" +
      """{"const":null},{"const":null},{"const":"x"},{"const":0.1},{"list":[{"const":1},{"const":2}]},""" +
      """{"dict":{"k":{"const":"v"}}}]}""")
    assert(Hp.const(Map("a" -> Seq(1, 2))).toJson == """{"const":{"a":[1,2]}}""")
    val odd = intercept[IllegalArgumentException](Hp.choice("c", new Object))
    assert(odd.getMessage.contains("java.lang.Object"), odd.getMessage)
    val key = intercept[IllegalArgumentException](Expr(Map(1 -> 2)))
    assert(key.getMessage.contains("dict keys are strings"), key.getMessage)
    val nullLabel = intercept[IllegalArgumentException](Hp.uniform(null, 0, 1).toJson)
    assert(nullLabel.getMessage.contains("label"), nullLabel.getMessage)
  }

  test("every hyperopt kind is built in the contract's form") {
    val all = Hp.list(
      Hp.uniform("a", 0, 1), Hp.loguniform("b", -1, 0), Hp.quniform("c", 0, 10, 2), Hp.qloguniform("d", 0, 3, 1),
      Hp.normal("e", 0, 1), Hp.lognormal("f", 0, 1), Hp.qnormal("g", 0, 5, 1), Hp.qlognormal("h", 0, 1, 1),
      Hp.randint("i", 5), Hp.randint("j", -3, 3), Hp.uniformint("k", 1, 9), Hp.uniformint("l", 0, 10, 5),
      Hp.pchoice("m", 0.25 -> "x", 0.75 -> Hp.uniform("m1", 0, 1)))
    val space = SearchSpace(all)
    assert(space.labels == Seq("a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "m1"))
    assert(Hp.randint("i", 5).toJson == """{"hp":"randint","label":"i","low":0,"high":5}""")
    assert(Hp.uniformint("k", 1, 9).toJson == """{"hp":"uniformint","label":"k","low":1.0,"high":9.0}""")
    assert(Hp.pchoice("m", 0.25 -> "x", 0.75 -> 1).toJson ==
      """{"hp":"pchoice","label":"m","options":[{"p":0.25,"value":{"const":"x"}},{"p":0.75,"value":{"const":1}}]}""")
  }
}
