package io.sparktune.ml.tracking

import org.scalatest.funsuite.AnyFunSuite

/** Batching and truncation within MLflow's limits, and param values as Python's autologging writes them. */
class MlflowLimitsSuite extends AnyFunSuite {

  test("batches stay within MLflow's limits and carry everything in order") {
    val params = (0 until 250).map(i => s"p$i" -> "v")
    val tags = (0 until 120).map(i => s"t$i" -> "v")
    val metrics = (0 until 2500).map(i => MetricPoint("m", i.toDouble, i.toLong))
    val batches = MlflowLimits.batches(params, metrics, tags)
    batches.foreach { b =>
      assert(b.params.size <= 100 && b.tags.size <= 100 && b.metrics.size <= 1000)
      assert(b.params.size + b.tags.size + b.metrics.size <= 1000)
    }
    // Compared as booleans: a failure would print thousands of entries.
    val carried = batches.flatMap(_.params) == params && batches.flatMap(_.tags) == tags &&
      batches.flatMap(_.metrics) == metrics
    assert(carried, "an entry was lost or reordered")
    assert(batches.map(b => (b.params.size, b.metrics.size, b.tags.size)) == Seq((100, 800, 100), (100, 880, 20),
      (50, 820, 0)), "as few batches as the limits allow")
  }

  test("keys and values are cut to the limits; NaN metrics are dropped") {
    val cut = MlflowLimits.params(Seq("k" * 300 -> "v" * 7000, "k" * 300 -> "again"))
    assert(cut.size == 1 && cut.head._1.length == 250 && cut.head._2.length == 6000 && cut.head._2.endsWith("..."))
    assert(MlflowLimits.params(Seq("k" -> "v" * 700), MlflowLimits.OldMaxParamValueLength).head._2.length == 500)
    assert(MlflowLimits.tags(Seq("k" -> "v" * 9000)).head._2.length == 5000)
    assert(MlflowLimits.metrics(Seq(MetricPoint("a", Double.NaN), MetricPoint("b", 1.0))).map(_.key) == Seq("b"))
  }

  test("param values read as Python's str of the same value") {
    val cases = Seq[(Any, String)](0.1 -> "0.1", 1e-4 -> "0.0001", 1e-5 -> "1e-05", 2.5e-7 -> "2.5e-07",
      1e16 -> "1e+16", 123456789.0 -> "123456789.0", 3.0 -> "3.0", -0.5 -> "-0.5", 0.0 -> "0.0", 10 -> "10",
      true -> "True", false -> "False", "l2" -> "l2", Array("a", "b") -> "['a', 'b']",
      Array(0.5, 1e-5) -> "[0.5, 1e-05]", Double.NaN -> "nan", 0.25f -> "0.25")
    cases.foreach { case (v, text) => assert(ParamText.show(v) == text, v) }
  }

  test("tracking URIs: http(s) with a token, databricks from the environment, local stores refused") {
    val home = new java.io.File("/nonexistent")
    val http = MlflowEndpoint.resolve("https://mlflow.example.com/", Map("MLFLOW_TRACKING_TOKEN" -> "t"), home)
    assert(http == Right(MlflowEndpoint("https://mlflow.example.com", Some("Bearer t"))))
    val db = MlflowEndpoint.resolve("databricks", Map("DATABRICKS_HOST" -> "adb-1.azuredatabricks.net",
      "DATABRICKS_TOKEN" -> "d"), home)
    assert(db == Right(MlflowEndpoint("https://adb-1.azuredatabricks.net", Some("Bearer d"))))
    assert(MlflowEndpoint.resolve("databricks://prod", Map.empty, home).left.exists(_.contains("[prod]")))
    assert(MlflowEndpoint.resolve("sqlite:///mlflow.db", Map.empty, home).isLeft)
    assert(MlflowEndpoint.resolve("./mlruns", Map.empty, home).isLeft)
  }
}
