package io.sparktune.ml.tuning

import java.util.concurrent.ConcurrentLinkedQueue

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}
import org.apache.spark.ml.classification.{LogisticRegression, RandomForestClassifier}
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.feature.{StandardScaler, StandardScalerModel, VectorAssembler}
import org.apache.spark.ml.tuning.{CrossValidator => SparkCrossValidator}
import org.apache.spark.sql.Dataset

import io.sparktune.space.Hp

/** A StandardScaler that records the job group and the partitions of the data of each of its fits. */
class GroupRecordingScaler(uid: String) extends StandardScaler(uid) {
  def this() = this("recordingScaler_" + java.util.UUID.randomUUID().toString.take(12))

  override def fit(dataset: Dataset[_]): StandardScalerModel = {
    val group = dataset.sparkSession.sparkContext.getLocalProperty("spark.jobGroup.id")
    GroupRecordingScaler.fits.add(Option(group).getOrElse(""))
    GroupRecordingScaler.partitions.add(dataset.toDF().rdd.getNumPartitions)
    super.fit(dataset)
  }
}

object GroupRecordingScaler {
  val fits = new ConcurrentLinkedQueue[String]()
  val partitions = new ConcurrentLinkedQueue[Int]()
}

/** A pipeline's untuned leading stages, fitted once per fold rather than once per trial and fold. */
class FoldFitsSuite extends SparkSuiteBase {

  private val lr = new LogisticRegression().setMaxIter(10)
  private val assembler = new VectorAssembler().setOutputCol("raw")
  private val scaler = new GroupRecordingScaler().setInputCol("raw").setOutputCol("features")
  private lazy val pipe = new Pipeline().setStages(Array[PipelineStage](assembler.setInputCols(featureCols), scaler, lr))
  private val grid = new ParamGridBuilder()
    .addGrid(lr.regParam, Array(0.001, 0.01, 0.1))
    .addGrid(lr.elasticNetParam, Array(0.0, 1.0))
    .build()
  private val evaluator = new BinaryClassificationEvaluator()

  /** Spark's CrossValidator fitted on `data`: [[grid]] over [[pipe]], 3 folds, seed 5. */
  private def theirs(data: Dataset[_]) = new SparkCrossValidator().setEstimator(pipe).setEstimatorParamMaps(grid)
    .setEvaluator(evaluator).setNumFolds(3).setSeed(5L).fit(data)

  /** sparktune's CrossValidator with the same params, and parallelism 2. */
  private def ours() = new CrossValidator().setEstimator(pipe).setEstimatorParamMaps(grid).setEvaluator(evaluator)
    .setNumFolds(3).setSeed(5L).setParallelism(2)

  test("the stages before the first tuned one are shared, if they fit something") {
    val p = pipe
    assert(FoldFits.sharedPrefix(p, Set(lr.uid)) == 2)
    assert(FoldFits.sharedPrefix(p, Set.empty) == 2, "the last stage is always fitted per trial")
    assert(FoldFits.sharedPrefix(p, Set(scaler.uid, lr.uid)) == 0, "a VectorAssembler alone is not worth caching")
    assert(FoldFits.sharedPrefix(p, Set(p.uid)) == 0, "a grid over the Pipeline's own stages")
    assert(FoldFits.sharedPrefix(lr, Set(lr.uid)) == 0, "no Pipeline")
    val nested = new Pipeline().setStages(Array[PipelineStage](assembler, scaler, new Pipeline().setStages(Array(lr))))
    assert(FoldFits.sharedPrefix(nested, Set(lr.uid)) == 2, "a param of a nested Pipeline's stage")

    // What the searches tell as tuned: a grid's params, a space's params and the stage a choice replaces.
    val scalerGrid = new ParamGridBuilder().addGrid(scaler.withMean, Array(false, true)).build()
    assert(FoldFits.sharedPrefix(p, new GridSearch(GridSpace(scalerGrid), p).tunedStages) == 0)
    assert(FoldFits.sharedPrefix(p, new GridSearch(GridSpace(grid), p).tunedStages) == 2)
    val rf = new RandomForestClassifier()
    val choice = ParamSpace().addStageChoice(lr, "classifier",
      lr -> ParamSpace().add(lr.regParam, Hp.uniform("lr.regParam", 0.0, 1.0)),
      rf -> ParamSpace().add(rf.maxDepth, Hp.randint("rf.maxDepth", 2, 6)))
    assert(new SpaceSearch(choice, p, 4, "random").tunedStages == Set(lr.uid))
    val scaling = ParamSpace().add(scaler.withMean, Hp.choice("withMean", false, true))
    assert(new SpaceSearch(scaling, p, 4, "random").tunedStages == Set(scaler.uid))
  }

  test("grid: the scaler is fitted once per fold, not per map and fold; avgMetrics and subModels as Spark's") {
    val expected = theirs(cancer)
    GroupRecordingScaler.fits.clear()
    val cv = ours().setCollectSubModels(true)
    val model = cv.fit(cancer)
    val groups = GroupRecordingScaler.fits.asScala.toSeq
    val inTrials = groups.filter(g => g.startsWith(s"sparktune-${cv.uid}-trial-") && !g.endsWith("-refit"))
    assert(inTrials.size == 3, s"scaler fits by job group: $groups")

    model.avgMetrics.zip(expected.avgMetrics).zipWithIndex.foreach { case ((a, b), i) =>
      assert(math.abs(a - b) <= 1e-12, s"map $i: sparktune $a, Spark $b")
    }
    (0 until 3).foreach { k =>
      val models = model.subModels(k).map(_.asInstanceOf[PipelineModel])
      assert(models.forall(m => m.uid == pipe.uid && m.stages.length == 3 && m.parent.uid == pipe.uid))
      assert(models.forall(_.stages(1) eq models.head.stages(1)), s"fold $k: one scaler model for all maps")
      // A sub-model is a whole pipeline: it transforms the raw rows.
      assert(models.head.transform(cancer).select("prediction").count() == cancer.count())
    }
    assert(model.subModels(0).head.asInstanceOf[PipelineModel].stages(1) ne
      model.subModels(1).head.asInstanceOf[PipelineModel].stages(1), "each fold fits its own scaler")
  }

  test("each fold is coalesced to the cores a trial has, unless foldPartitions says otherwise or the size is unknown") {
    val spread = cancer.repartition(4).cache()
    spread.count()
    def chosen(data: Dataset[_], parallelism: Int, requested: Int = 0) =
      FoldFits.partitions(data, parallelism, requested).map(_._1)
    assert(chosen(spread, 2) == Some(1), "local[2]: 2 cores for 2 trials at once")
    assert(chosen(spread, 1) == Some(2))
    assert(chosen(spread, 2, requested = 3) == Some(3))
    val unknownSize = spark.createDataFrame(spread.rdd, spread.schema)
    assert(chosen(unknownSize, 2).isEmpty, "a plan that does not know its size keeps its partitions")

    val bytes = spread.queryExecution.optimizedPlan.stats.sizeInBytes.toLong
    val key = "spark.sql.files.maxPartitionBytes"
    val before = spark.conf.getOption(key)
    spark.conf.set(key, (bytes / 3 + 1).toString)
    try assert(chosen(spread, 2) == Some(3), s"$bytes bytes at most ${bytes / 3 + 1} a partition")
    finally before.fold(spark.conf.unset(key))(spark.conf.set(key, _))
  }

  test("coalesced folds: the trials fit on one partition each, with Spark's metrics") {
    val spread = cancer.repartition(4).cache()
    val expected = theirs(spread)
    GroupRecordingScaler.partitions.clear()
    val model = ours().fit(spread)
    // One fit a fold, and the refits on the whole data set, which keeps its 4 partitions as Spark's does.
    val seen = GroupRecordingScaler.partitions.asScala.toSeq
    assert(seen.count(_ == 1) == 3 && seen.forall(Set(1, 4)), s"partitions of the scaler's fits: $seen")
    model.avgMetrics.zip(expected.avgMetrics).zipWithIndex.foreach { case ((a, b), i) =>
      assert(math.abs(a - b) <= 1e-9, s"map $i: sparktune $a, Spark $b (the same rows; sums in another order)")
    }

    GroupRecordingScaler.partitions.clear()
    val kept = ours().setFoldPartitions(8).fit(spread)
    val seenKept = GroupRecordingScaler.partitions.asScala.toSeq
    assert(seenKept.size >= 4 && seenKept.forall(_ == 4), s"foldPartitions 8 adds none to the 4: $seenKept")
    assert(kept.avgMetrics.sameElements(expected.avgMetrics), "the data's partitions: Spark's metrics, bit for bit")
  }
}
