package io.sparktune.ml.tuning

import scala.jdk.CollectionConverters._

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.classification.{GBTClassificationModel, GBTClassifier, LogisticRegression,
  LogisticRegressionModel, RandomForestClassificationModel, RandomForestClassifier}
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator

import io.sparktune.JsonCodec
import io.sparktune.space.Hp

/** One search across alternative estimators, each with its own params (a conditional space). */
class ModelSelectionSuite extends SparkSuiteBase {

  private val lr = new LogisticRegression().setMaxIter(10)
  private val rf = new RandomForestClassifier().setNumTrees(10)
  private val gbt = new GBTClassifier().setMaxIter(5)

  private def space = ParamSpace().addStageChoice(lr, "classifier",
    lr -> ParamSpace().add(lr.regParam, Hp.loguniform("lr.regParam", math.log(1e-3), 0.0)),
    rf -> ParamSpace().add(rf.maxDepth, Hp.randint("rf.maxDepth", 2, 6)),
    gbt -> ParamSpace().add(gbt.stepSize, Hp.uniform("gbt.stepSize", 0.05, 0.5)))

  test("LogisticRegression, RandomForest or GBT: each trial fits the chosen one with its own params") {
    val cv = new CrossValidator().setEstimator(pipeline(lr)).setSearchSpace(space).setMaxTrials(6)
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2).setSeed(21L).setParallelism(2)
    val model = cv.fit(cancer)
    val trials = JsonCodec.parse(model.trialsJson, "trials").elements.asScala.toSeq
    assert(trials.map(_.get("state").asText).forall(_ == "ok"), model.trialsJson)
    val kinds = trials.map { t =>
      val chosen = t.get("point").get("classifier").asInt
      val values = t.get("values").get("classifier")
      // Only the chosen option's params are drawn.
      val expected = Seq("lr.regParam", "rf.maxDepth", "gbt.stepSize")(chosen)
      assert(values.fieldNames.asScala.toSeq == Seq(expected), s"trial values $values for option $chosen")
      if (chosen == 1) assert((2 until 6).contains(values.get("rf.maxDepth").asInt))
      chosen
    }
    assert(kinds.distinct.size >= 2, s"6 draws chose only option ${kinds.distinct}")
    assert(model.avgMetrics.forall(m => m > 0.8 && m <= 1.0), model.avgMetrics.toSeq)
    val bestKind = kinds(model.bestIndex)
    val last = model.bestModel.asInstanceOf[PipelineModel].stages.last
    bestKind match {
      case 0 => assert(last.isInstanceOf[LogisticRegressionModel], last)
      case 1 => assert(last.asInstanceOf[RandomForestClassificationModel].getMaxDepth ==
        trials(model.bestIndex).get("values").get("classifier").get("rf.maxDepth").asInt)
      case _ => assert(last.isInstanceOf[GBTClassificationModel], last)
    }
    assert(model.transform(cancer).columns.contains("prediction"))
  }

  test("a chosen stage outside any Pipeline, or an option's param of another stage, is an error naming it") {
    val bare = new CrossValidator().setEstimator(new Pipeline().setStages(Array(rf))).setSearchSpace(space)
      .setEvaluator(new BinaryClassificationEvaluator()).setNumFolds(2)
    val e1 = intercept[IllegalArgumentException](bare.fit(cancer))
    assert(e1.getMessage.contains(s"replaces stage ${lr.uid}") && e1.getMessage.contains("Pipeline"), e1.getMessage)
    val e2 = intercept[IllegalArgumentException](ParamSpace().addStageChoice(lr, "classifier",
      lr -> ParamSpace().add(rf.maxDepth, Hp.randint("d", 2, 6))))
    assert(e2.getMessage.contains(s"${rf.uid}.maxDepth"), e2.getMessage)
    val e3 = intercept[IllegalArgumentException](space.add(lr.maxIter, Hp.randint("rf.maxDepth", 2, 6)))
    assert(e3.getMessage.contains("label 'rf.maxDepth'"), e3.getMessage)
  }
}
