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

/** A StandardScaler that records the job group of each of its fits. */
class GroupRecordingScaler(uid: String) extends StandardScaler(uid) {
  def this() = this("recordingScaler_" + java.util.UUID.randomUUID().toString.take(12))

  override def fit(dataset: Dataset[_]): StandardScalerModel = {
    val group = dataset.sparkSession.sparkContext.getLocalProperty("spark.jobGroup.id")
    GroupRecordingScaler.fits.add(Option(group).getOrElse(""))
    super.fit(dataset)
  }
}

object GroupRecordingScaler {
  val fits = new ConcurrentLinkedQueue[String]()
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
    val evaluator = new BinaryClassificationEvaluator()
    val theirs = new SparkCrossValidator().setEstimator(pipe).setEstimatorParamMaps(grid).setEvaluator(evaluator)
      .setNumFolds(3).setSeed(5L).fit(cancer)
    GroupRecordingScaler.fits.clear()
    val cv = new CrossValidator().setEstimator(pipe).setEstimatorParamMaps(grid).setEvaluator(evaluator)
      .setNumFolds(3).setSeed(5L).setParallelism(2).setCollectSubModels(true)
    val ours = cv.fit(cancer)
    val groups = GroupRecordingScaler.fits.asScala.toSeq
    val inTrials = groups.filter(g => g.startsWith(s"sparktune-${cv.uid}-trial-") && !g.endsWith("-refit"))
    assert(inTrials.size == 3, s"scaler fits by job group: $groups")

    ours.avgMetrics.zip(theirs.avgMetrics).zipWithIndex.foreach { case ((a, b), i) =>
      assert(math.abs(a - b) <= 1e-12, s"map $i: sparktune $a, Spark $b")
    }
    (0 until 3).foreach { k =>
      val models = ours.subModels(k).map(_.asInstanceOf[PipelineModel])
      assert(models.forall(m => m.uid == pipe.uid && m.stages.length == 3 && m.parent.uid == pipe.uid))
      assert(models.forall(_.stages(1) eq models.head.stages(1)), s"fold $k: one scaler model for all maps")
      // A sub-model is a whole pipeline: it transforms the raw rows.
      assert(models.head.transform(cancer).select("prediction").count() == cancer.count())
    }
    assert(ours.subModels(0).head.asInstanceOf[PipelineModel].stages(1) ne
      ours.subModels(1).head.asInstanceOf[PipelineModel].stages(1), "each fold fits its own scaler")
  }
}
