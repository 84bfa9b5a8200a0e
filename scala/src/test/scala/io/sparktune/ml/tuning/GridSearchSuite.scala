package io.sparktune.ml.tuning

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.PipelineModel
import org.apache.spark.ml.classification.{LogisticRegression, LogisticRegressionModel}
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.tuning.{CrossValidator => SparkCrossValidator, CrossValidatorModel => SparkCVModel}
import org.apache.spark.ml.tuning.ParamGridBuilder

import io.sparktune.JsonCodec

/** Grid mode against Spark's own CrossValidator on the same pipeline, maps, folds and seed. */
class GridSearchSuite extends SparkSuiteBase {

  private val lr = new LogisticRegression().setMaxIter(10)
  private lazy val pipe = pipeline(lr)
  private val grid: Array[ParamMap] = new ParamGridBuilder()
    .addGrid(lr.regParam, Array(0.001, 0.01, 0.1))
    .addGrid(lr.elasticNetParam, Array(0.0, 1.0))
    .build()
  private val seed = 7L

  private def sparkCV(maps: Array[ParamMap]): SparkCVModel = new SparkCrossValidator()
    .setEstimator(pipe).setEstimatorParamMaps(maps).setEvaluator(new BinaryClassificationEvaluator())
    .setNumFolds(3).setSeed(seed).fit(cancer)

  private def ourCV(maps: Array[ParamMap], parallelism: Int): CrossValidator = new CrossValidator()
    .setEstimator(pipe).setEstimatorParamMaps(maps).setEvaluator(new BinaryClassificationEvaluator())
    .setNumFolds(3).setSeed(seed).setParallelism(parallelism)

  private lazy val expected = sparkCV(grid)

  private def lrOf(model: org.apache.spark.ml.Model[_]): LogisticRegressionModel =
    model.asInstanceOf[PipelineModel].stages.last.asInstanceOf[LogisticRegressionModel]

  private def assertSameAsSpark(ours: CrossValidatorModel, spark: SparkCVModel, maps: Array[ParamMap]): Unit = {
    assert(ours.avgMetrics.length == spark.avgMetrics.length)
    ours.avgMetrics.zip(spark.avgMetrics).zipWithIndex.foreach { case ((a, b), i) =>
      assert(math.abs(a - b) <= 1e-12, s"map $i (${maps(i)}): sparktune $a, Spark $b")
    }
    val sparkBest = lrOf(spark.bestModel)
    assert(ours.bestParams(lr.regParam) == sparkBest.getRegParam)
    assert(ours.bestParams(lr.elasticNetParam) == sparkBest.getElasticNetParam)
    assert(ours.bestParams.toSeq.toSet == maps(ours.bestIndex).toSeq.toSet)
    val (c1, c2) = (lrOf(ours.bestModel).coefficients.toArray, sparkBest.coefficients.toArray)
    assert(c1.zip(c2).forall { case (x, y) => math.abs(x - y) <= 1e-12 }, "the refitted best models differ")
  }

  /** Each trial's values (from the core's JSON) match the param map of its avgMetrics entry. */
  private def assertTrialsCarryParams(ours: CrossValidatorModel, maps: Array[ParamMap]): Unit = {
    val trials = JsonCodec.parse(ours.trialsJson, "trials").elements.asScala.map(t => t.get("id").asLong -> t).toMap
    assert(trials.size == maps.length)
    ours.trialIds.zip(maps).foreach { case (id, map) =>
      val t = trials(id)
      assert(t.get("state").asText == "ok")
      val values = t.get("values")
      assert(values.get("regParam").asDouble == map(lr.regParam), s"trial $id values $values vs $map")
      assert(values.get("elasticNetParam").asDouble == map(lr.elasticNetParam), s"trial $id values $values vs $map")
      val folds = (0 until 3).map(k => t.get("metrics").get(s"fold_$k").asDouble)
      assert(folds.sum / 3 == t.get("value").asDouble)
    }
  }

  test("a ParamGridBuilder grid is told to the core as one choice per param, in the maps' order") {
    val space = GridSpace(grid)
    assert(space.factorised)
    val root = JsonCodec.parse(space.spaceJson, "space").get("root").get("dict")
    assert(root.fieldNames.asScala.toSet == Set("regParam", "elasticNetParam"))
    // The slowest param comes first, so the core's grid (last label fastest) is the maps' order.
    val labels = root.fieldNames.asScala.toSeq
    val counts = labels.map(l => root.get(l).get("options").size)
    grid.indices.foreach { i =>
      val point = labels.zip(counts).zipWithIndex.map { case ((label, _), j) =>
        label -> ((i / counts.drop(j + 1).product) % counts(j)).toDouble
      }.toMap
      assert(space.indexOf(point) == i)
    }
  }

  test("maps that are no product are told as one choice over the maps") {
    val shuffled = Array(grid(5), grid(0), grid(3))
    val space = GridSpace(shuffled)
    assert(!space.factorised)
    assert(space.indexOf(Map(GridSpace.IndexLabel -> 2.0)) == 2)
    val options = JsonCodec.parse(space.spaceJson, "space").get("root").get("options")
    assert(options.get(0).get("dict").get("regParam").get("const").asDouble == grid(5)(lr.regParam))
  }

  test("grid: avgMetrics equal Spark's CrossValidator, in the maps' order, with the same best (parallelism 1)") {
    val ours = ourCV(grid, 1).fit(cancer)
    assertSameAsSpark(ours, expected, grid)
    assertTrialsCarryParams(ours, grid)
    assert(ours.trialIds.toSeq == (0 until 6).map(_.toLong))
  }

  test("grid: the same with parallelism 2, each trial's jobs in its own job group") {
    val cv = ourCV(grid, 2)
    val recorder = new JobRecorder(spark.sparkContext)
    val ours = cv.fit(cancer)
    val groups = recorder.stop()
    assertSameAsSpark(ours, expected, grid)
    assertTrialsCarryParams(ours, grid)
    val trialGroups = groups.filter(_.startsWith(s"sparktune-${cv.uid}-trial-")).filterNot(_.endsWith("-refit")).toSet
    assert(trialGroups == (0 until 6).map(i => cv.jobGroup(i.toLong)).toSet, s"job groups seen: ${groups.distinct}")
  }

  test("a grid resumed after a crash runs the maps whose trials were abandoned; still Spark's avgMetrics") {
    val store = tempDir("sparktune-grid").resolve("grid.journal").toString
    // A process that asked two trials of this grid, then stopped before telling them.
    val crashed = CoreStudy.open(GridSpace(grid).spaceJson, "grid", seed, "maximize", Some(store))
    crashed.ask()
    crashed.ask()
    crashed.close()
    val ours = ourCV(grid, 2).setTrialStore(store).fit(cancer)
    assertSameAsSpark(ours, expected, grid)
    val states = JsonCodec.parse(ours.trialsJson, "trials").elements.asScala.map(t => t.get("state").asText).toSeq
    assert(states == Seq("cancelled", "cancelled") ++ Seq.fill(6)("ok"))
    assert(ours.trialIds.toSeq == Seq(6L, 7L, 2L, 3L, 4L, 5L), "maps 0 and 1 are run again, after the grid")
  }

  test("grid: maps that are no product give Spark's avgMetrics too, in their order") {
    val shuffled = Array(grid(5), grid(0), grid(3))
    val ours = ourCV(shuffled, 2).fit(cancer)
    assertSameAsSpark(ours, sparkCV(shuffled), shuffled)
    assertTrialsCarryParams(ours, shuffled)
  }
}
