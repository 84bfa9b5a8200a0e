package io.sparktune.ml.tuning

import java.io.{File, IOException}
import java.nio.file.Files

import org.apache.spark.ml.{Pipeline, PipelineModel, PipelineStage}
import org.apache.spark.ml.Model
import org.apache.spark.ml.classification.{LogisticRegression, LogisticRegressionModel, RandomForestClassifier}
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator
import org.apache.spark.ml.feature.{StandardScaler, VectorAssembler}
import org.apache.spark.ml.param.ParamMap
import org.apache.spark.ml.tuning.{CrossValidator => SparkCrossValidator, ParamGridBuilder}
import org.apache.spark.sql.DataFrame

import io.sparktune.JsonCodec
import io.sparktune.ml.tuning.persistence.{CrossValidatorReadWrite, TrainValidationSplitReadWrite}
import io.sparktune.space.Hp

/** save / load of CrossValidator, TrainValidationSplit and their models, alone and as stages of a Pipeline. */
class PersistenceSuite extends SparkSuiteBase {

  private val lr = new LogisticRegression().setMaxIter(8)
  private lazy val pipe = pipeline(lr)
  private val grid: Array[ParamMap] = regularizationGrid(lr)

  private def evaluator = new BinaryClassificationEvaluator().setMetricName("areaUnderPR")

  private def gridCV: CrossValidator = new CrossValidator().setEstimator(pipe).setEstimatorParamMaps(grid)
    .setEvaluator(evaluator).setNumFolds(2).setSeed(5L).setParallelism(2).setFoldSplit("pyspark")

  private def randomCV(store: String): CrossValidator = new CrossValidator().setEstimator(pipe)
    .setSearchSpace(ParamSpace()
      .add(lr.regParam, Hp.loguniform("reg", math.log(1e-4), 0.0))
      .add(lr.elasticNetParam, Hp.choice("en", 0.0, 0.5, 1.0)))
    .setEvaluator(evaluator).setNumFolds(2).setSeed(9L).setMaxTrials(3).setTrialStore(store)

  private def dir(name: String): String = tempDir("sparktune-persist").resolve(name).toString

  private def metadata(path: String) = {
    val part = new File(path, "metadata").listFiles().find(_.getName.startsWith("part-")).get
    JsonCodec.parse(new String(Files.readAllBytes(part.toPath), "UTF-8"), "metadata")
  }

  /** Every map, as (stage uid, param name, value) triples, in order. */
  private def triples(maps: Array[ParamMap]) = maps.toSeq.map(_.toSeq.map(p => (p.param.parent, p.param.name, p.value)).toSet)

  private def assertSameParams(a: CrossValidator, b: CrossValidator): Unit = {
    assert(b.uid == a.uid)
    Seq(a.numFolds, a.seed, a.parallelism, a.foldCol, a.maxTrials, a.trialStore, a.foldSplit).foreach { p =>
      assert(b.getOrDefault(b.getParam(p.name)) == a.getOrDefault(p), p.name)
      assert(b.isSet(b.getParam(p.name)) == a.isSet(p), s"${p.name}: set on one side only")
    }
    val (pa, pb) = (a.getEstimator.asInstanceOf[Pipeline], b.getEstimator.asInstanceOf[Pipeline])
    assert(pb.getStages.map(_.uid).toSeq == pa.getStages.map(_.uid).toSeq)
    assert(pb.getStages.last.asInstanceOf[LogisticRegression].getMaxIter == 8)
    assert(b.getEvaluator.uid == a.getEvaluator.uid)
    assert(b.getEvaluator.asInstanceOf[BinaryClassificationEvaluator].getMetricName == "areaUnderPR")
    assert(b.isDefined(b.estimatorParamMaps) == a.isDefined(a.estimatorParamMaps))
    if (a.isDefined(a.estimatorParamMaps)) assert(triples(b.getEstimatorParamMaps) == triples(a.getEstimatorParamMaps))
    assert(b.isDefined(b.searchSpace) == a.isDefined(a.searchSpace))
    if (a.isDefined(a.searchSpace)) assert(b.getSearchSpace.bindingsJson == a.getSearchSpace.bindingsJson)
  }

  private def assertSameResults(a: CrossValidatorModel, b: CrossValidatorModel): Unit = {
    assert(b.uid == a.uid)
    assert(b.avgMetrics.toSeq == a.avgMetrics.toSeq)
    assert(b.stdMetrics.toSeq == a.stdMetrics.toSeq)
    assert(b.foldMetrics.map(_.toSeq).toSeq == a.foldMetrics.map(_.toSeq).toSeq)
    assert(b.bestIndex == a.bestIndex)
    assert(b.trialIds.toSeq == a.trialIds.toSeq)
    assert(b.trials == a.trials)
    assert(triples(Array(b.bestParams)) == triples(Array(a.bestParams)))
  }

  private def predictions(df: DataFrame): Seq[(Double, Double)] =
    df.select("prediction", "probability").collect().toSeq.map(r =>
      (r.getDouble(0), r.getAs[org.apache.spark.ml.linalg.Vector](1)(1)))

  test("a grid CrossValidator saves in Spark's layout and loads with its params; both fit alike") {
    val cv = gridCV
    val path = dir("cv")
    cv.save(path)

    val md = metadata(path)
    assert(md.get("class").asText == classOf[CrossValidator].getName)
    assert(md.get("uid").asText == cv.uid)
    assert(md.get("sparkVersion").asText == spark.version)
    val epm = md.get("paramMap").get("estimatorParamMaps")
    assert(epm.size == 4 && epm.get(0).size == 2, s"estimatorParamMaps as Spark writes them: $epm")
    assert(epm.get(0).get(0).get("parent").asText == lr.uid && epm.get(0).get(0).get("isJson").asText == "true")
    assert(md.get("paramMap").get("numFolds").asInt == 2)
    assert(!md.get("paramMap").has("estimator") && md.get("defaultParamMap").get("maxTrials").asInt == 10)
    Seq("estimator", "evaluator").foreach(d => assert(new File(path, s"$d/metadata").isDirectory, d))

    val loaded = CrossValidator.load(path)
    assert(loaded.getClass == classOf[CrossValidator])
    assertSameParams(cv, loaded)
    assert(!loaded.isSet(loaded.maxTrials) && loaded.getMaxTrials == 10, "a default stays a default")
    assert(loaded.fit(cancer).avgMetrics.toSeq == cv.fit(cancer).avgMetrics.toSeq)
  }

  test("a random CrossValidator keeps its search space and trial store; its model round-trips") {
    val store = dir("study.journal")
    val cv = randomCV(store)
    val path = dir("random-cv")
    cv.write.save(path)
    val bindings = metadata(path).get("paramMap").get("searchSpace")
    assert(bindings.isArray && bindings.size == 2 && bindings.get(0).get("stage").asText == lr.uid, bindings.toString)
    val loaded = CrossValidator.load(path)
    assertSameParams(cv, loaded)
    assert(loaded.getTrialStore == store)

    val model = loaded.fit(cancer)
    assert(model.trials.size == 3 && new File(store).length > 0)
    val modelPath = dir("random-model")
    model.save(modelPath)
    assert(new File(modelPath, "bestModel/metadata").isDirectory)
    val back = CrossValidatorModel.load(modelPath)
    assertSameResults(model, back)
    assertSameParams(loaded, CrossValidator.read.load(path))
    assert(back.getTrialStore == store && back.getSearchSpace.bindingsJson == cv.getSearchSpace.bindingsJson)
    assert(predictions(back.transform(cancer)) == predictions(model.transform(cancer)))
    // The loaded store still resumes: a fit with the same maxTrials runs nothing new.
    assert(back.getMaxTrials == 3 && CrossValidator.load(path).fit(cancer).trials.size == 3)
  }

  test("a grid model saves its results (NaN included), bestModel and params; write.overwrite replaces it") {
    val model = gridCV.fit(cancer)
    val path = dir("grid-model")
    model.save(path)
    val md = metadata(path)
    assert(md.get("class").asText == classOf[CrossValidatorModel].getName)
    assert(md.get("avgMetrics").size == 4 && md.get("foldMetrics").get(0).size == 2 && !md.get("persistSubModels").asBoolean)
    val back = CrossValidatorModel.load(path)
    assertSameResults(model, back)
    assert(back.bestParams(lr.regParam) == model.bestParams(lr.regParam))
    assert(triples(back.getEstimatorParamMaps) == triples(grid))
    assert(back.bestModel.isInstanceOf[PipelineModel])
    val (c1, c2) = Seq(model, back).map(_.bestModel.asInstanceOf[PipelineModel].stages.last
      .asInstanceOf[LogisticRegressionModel].coefficients.toArray) match { case Seq(x, y) => (x, y) }
    assert(c1.toSeq == c2.toSeq)
    assert(predictions(back.transform(cancer)) == predictions(model.transform(cancer)))

    // A path that exists: an error naming it, unless overwrite() is asked for.
    val err = intercept[IOException](model.save(path))
    assert(err.getMessage.contains(path), err.getMessage)
    val withNaN = CrossValidatorReadWrite.model(model.uid, model, model.bestModel, model.bestParams,
      """{"avgMetrics": ["NaN", 0.5, 0.25, 0.75], "stdMetrics": [0, 0, 0, 0],
        |"foldMetrics": [["NaN", "NaN"], [0.5, 0.5], [0.25, 0.25], [0.75, 0.75]], "bestIndex": 3,
        |"trialIds": [-1, 1, 2, 3], "trials": []}""".stripMargin)
    withNaN.write.overwrite().save(path)
    val replaced = CrossValidatorModel.load(path)
    assert(replaced.avgMetrics(0).isNaN && replaced.avgMetrics.drop(1).toSeq == Seq(0.5, 0.25, 0.75))
    assert(replaced.foldMetrics(0).forall(_.isNaN) && replaced.bestIndex == 3 && replaced.trialIds(0) == -1L)
    assert(replaced.getNumFolds == 2 && replaced.getEvaluator.uid == model.getEvaluator.uid)
  }

  test("a Pipeline with a CrossValidator stage saves and loads, and so does its PipelineModel") {
    val innerLr = new LogisticRegression().setMaxIter(8)
    val cv = new CrossValidator().setEstimator(innerLr)
      .setEstimatorParamMaps(new ParamGridBuilder().addGrid(innerLr.regParam, Array(0.01, 0.3)).build())
      .setEvaluator(evaluator).setNumFolds(2).setSeed(3L)
    val outer = new Pipeline().setStages(Array[PipelineStage](
      new VectorAssembler().setInputCols(featureCols).setOutputCol("raw"),
      new StandardScaler().setInputCol("raw").setOutputCol("features"),
      cv))
    val path = dir("pipeline")
    outer.save(path)
    val loaded = Pipeline.load(path)
    val stage = loaded.getStages.last
    assert(stage.isInstanceOf[CrossValidator] && stage.uid == cv.uid)
    val loadedCV = stage.asInstanceOf[CrossValidator]
    assert(loadedCV.getNumFolds == 2 && loadedCV.getSeed == 3L)
    assert(triples(loadedCV.getEstimatorParamMaps) == triples(cv.getEstimatorParamMaps))

    val fitted = outer.fit(cancer)
    val modelPath = dir("pipeline-model")
    fitted.write.save(modelPath)
    val back = PipelineModel.load(modelPath)
    val backCV = back.stages.last.asInstanceOf[CrossValidatorModel]
    assertSameResults(fitted.stages.last.asInstanceOf[CrossValidatorModel], backCV)
    assert(predictions(back.transform(cancer)) == predictions(fitted.transform(cancer)))
    assert(predictions(loaded.fit(cancer).transform(cancer)) == predictions(fitted.transform(cancer)))
  }

  test("a CrossValidator inside a CrossValidator's Pipeline: the param maps reach through both") {
    val innerLr = new LogisticRegression().setMaxIter(5)
    val inner = new CrossValidator().setEstimator(innerLr)
      .setEstimatorParamMaps(new ParamGridBuilder().addGrid(innerLr.regParam, Array(0.01, 0.3)).build())
      .setEvaluator(evaluator).setNumFolds(2)
    val assembler = new VectorAssembler().setInputCols(featureCols).setOutputCol("features")
    val outerPipe = new Pipeline().setStages(Array[PipelineStage](assembler, inner))
    // The outer grid sets a param of the inner tuner and one of the inner tuner's estimator.
    val outerGrid = new ParamGridBuilder().addGrid(inner.numFolds, Array(2, 3))
      .addGrid(innerLr.elasticNetParam, Array(0.0, 1.0)).build()
    val outer = new CrossValidator().setEstimator(outerPipe).setEstimatorParamMaps(outerGrid).setEvaluator(evaluator)
    val path = dir("nested")
    outer.save(path)
    val loaded = CrossValidator.load(path)
    assert(triples(loaded.getEstimatorParamMaps) == triples(outerGrid))
    val loadedInner = loaded.getEstimator.asInstanceOf[Pipeline].getStages.last.asInstanceOf[CrossValidator]
    assert(loadedInner.uid == inner.uid && loaded.getEstimatorParamMaps.head.toSeq.exists(_.param.parent == inner.uid))
  }

  test("errors name the path: another class, a missing path, a param map that sets a foreign param") {
    val sparkPath = dir("spark-cv")
    new SparkCrossValidator().setEstimator(lr).setEstimatorParamMaps(grid).setEvaluator(evaluator).save(sparkPath)
    val wrongClass = intercept[IllegalArgumentException](CrossValidator.load(sparkPath))
    assert(wrongClass.getMessage.contains(sparkPath) &&
      wrongClass.getMessage.contains("org.apache.spark.ml.tuning.CrossValidator"), wrongClass.getMessage)

    val cvPath = dir("cv-not-model")
    gridCV.save(cvPath)
    val notModel = intercept[IllegalArgumentException](CrossValidatorModel.load(cvPath))
    assert(notModel.getMessage.contains(cvPath) && notModel.getMessage.contains(classOf[CrossValidatorModel].getName),
      notModel.getMessage)

    val missing = dir("nothing-here")
    val none = intercept[IllegalArgumentException](CrossValidator.load(missing))
    assert(none.getMessage.contains(missing), none.getMessage)

    val stranger = new LogisticRegression()
    val foreign = gridCV.setEstimatorParamMaps(Array(ParamMap(stranger.regParam -> 0.1)))
    val target = dir("foreign")
    val refused = intercept[IllegalArgumentException](foreign.save(target))
    assert(refused.getMessage.contains(target) && refused.getMessage.contains(stranger.uid), refused.getMessage)
    assert(!new File(target).exists, "a refused save wrote something")
  }

  private def coefficients(m: Model[_]): Seq[Double] =
    m.asInstanceOf[PipelineModel].stages.last.asInstanceOf[LogisticRegressionModel].coefficients.toArray.toSeq

  private def gridTVS: TrainValidationSplit = new TrainValidationSplit().setEstimator(pipe).setEstimatorParamMaps(grid)
    .setEvaluator(evaluator).setTrainRatio(0.6).setSeed(11L).setParallelism(2).setSplit("pyspark")

  test("a TrainValidationSplit saves and loads with its params; its model with validationMetrics and subModels") {
    val tvs = gridTVS.setCollectSubModels(true)
    val path = dir("tvs")
    tvs.save(path)
    val md = metadata(path)
    assert(md.get("class").asText == classOf[TrainValidationSplit].getName)
    assert(md.get("paramMap").get("trainRatio").asDouble == 0.6 && md.get("paramMap").get("split").asText == "pyspark")
    val loaded = TrainValidationSplit.load(path)
    assert(loaded.getClass == classOf[TrainValidationSplit] && loaded.uid == tvs.uid)
    Seq(tvs.trainRatio, tvs.seed, tvs.parallelism, tvs.split, tvs.collectSubModels, tvs.maxTrials).foreach { p =>
      assert(loaded.getOrDefault(loaded.getParam(p.name)) == tvs.getOrDefault(p), p.name)
      assert(loaded.isSet(loaded.getParam(p.name)) == tvs.isSet(p), s"${p.name}: set on one side only")
    }
    assert(triples(loaded.getEstimatorParamMaps) == triples(grid))

    val model = loaded.fit(cancer)
    assert(model.validationMetrics.toSeq == tvs.fit(cancer).validationMetrics.toSeq)
    val modelPath = dir("tvs-model")
    model.save(modelPath)
    assert(metadata(modelPath).get("validationMetrics").size == 4 && metadata(modelPath).get("persistSubModels").asBoolean)
    assert(new File(modelPath, "subModels/3/metadata").isDirectory)
    val back = TrainValidationSplitModel.load(modelPath)
    assert(back.uid == model.uid && back.validationMetrics.toSeq == model.validationMetrics.toSeq)
    assert(back.bestIndex == model.bestIndex && back.trialIds.toSeq == model.trialIds.toSeq && back.trials == model.trials)
    assert(triples(Array(back.bestParams)) == triples(Array(model.bestParams)))
    assert(back.getTrainRatio == 0.6 && back.getCollectSubModels)
    assert(back.subModels.map(coefficients).toSeq == model.subModels.map(coefficients).toSeq)
    assert(predictions(back.transform(cancer)) == predictions(model.transform(cancer)))

    val withNaN = TrainValidationSplitReadWrite.model(model.uid, model, model.bestModel, model.bestParams,
      """{"validationMetrics": ["NaN", 0.5, 0.25, 0.75], "bestIndex": 3, "trialIds": [-1, 1, 2, 3], "trials": []}""")
    withNaN.write.overwrite().save(modelPath)
    val replaced = TrainValidationSplitModel.load(modelPath)
    assert(replaced.validationMetrics(0).isNaN && replaced.bestIndex == 3 && !replaced.hasSubModels)
    assert(!new File(modelPath, "subModels").exists, "overwrite left the old subModels")
  }

  test("the search params and subModels of a CrossValidator round-trip; persistSubModels=false leaves them out") {
    val store = dir("search.journal")
    val cv = randomCV(store).setSampler("tpe").setTimeout(120.0).setPruning("median").setCollectSubModels(true)
      .setFoldPartitions(3)
    val path = dir("search-cv")
    cv.save(path)
    val loaded = CrossValidator.load(path)
    assertSameParams(cv, loaded)
    Seq(cv.sampler, cv.timeout, cv.pruning, cv.collectSubModels, cv.foldPartitions).foreach { p =>
      assert(loaded.getOrDefault(loaded.getParam(p.name)) == cv.getOrDefault(p), p.name)
    }
    val model = loaded.fit(cancer)
    val modelPath = dir("search-model")
    model.save(modelPath)
    assert(new File(modelPath, "subModels/fold1/0/metadata").isDirectory)
    val back = CrossValidatorModel.load(modelPath)
    assertSameResults(model, back)
    assert(back.getSampler == "tpe" && back.getTimeout == 120.0 && back.getPruning == "median")
    // A pruned trial's sub-model is null: saved as none, loaded as null.
    def subs(m: CrossValidatorModel) = m.subModels.map(_.map(s => Option(s).map(coefficients)).toSeq).toSeq
    assert(subs(back) == subs(model) && subs(model).flatten.exists(_.isDefined))

    val bare = dir("search-model-bare")
    model.write.option("persistSubModels", "false").save(bare)
    assert(!new File(bare, "subModels").exists && !CrossValidatorModel.load(bare).hasSubModels)
    val noSubs = gridCV.fit(cancer)
    val refused = intercept[IllegalArgumentException](noSubs.write.option("persistSubModels", "true").save(dir("no-subs")))
    assert(refused.getMessage.contains("collectSubModels"), refused.getMessage)
  }

  test("a Pipeline with a TrainValidationSplit stage saves and loads, and so does its PipelineModel") {
    val innerLr = new LogisticRegression().setMaxIter(8)
    val tvs = new TrainValidationSplit().setEstimator(innerLr)
      .setEstimatorParamMaps(new ParamGridBuilder().addGrid(innerLr.regParam, Array(0.01, 0.3)).build())
      .setEvaluator(evaluator).setSeed(3L)
    val outer = new Pipeline().setStages(Array[PipelineStage](
      new VectorAssembler().setInputCols(featureCols).setOutputCol("raw"),
      new StandardScaler().setInputCol("raw").setOutputCol("features"),
      tvs))
    val path = dir("tvs-pipeline")
    outer.save(path)
    val stage = Pipeline.load(path).getStages.last
    assert(stage.isInstanceOf[TrainValidationSplit] && stage.uid == tvs.uid)
    assert(triples(stage.asInstanceOf[TrainValidationSplit].getEstimatorParamMaps) == triples(tvs.getEstimatorParamMaps))

    val fitted = outer.fit(cancer)
    val modelPath = dir("tvs-pipeline-model")
    fitted.write.save(modelPath)
    val back = PipelineModel.load(modelPath)
    val backTVS = back.stages.last.asInstanceOf[TrainValidationSplitModel]
    assert(backTVS.validationMetrics.toSeq == fitted.stages.last.asInstanceOf[TrainValidationSplitModel].validationMetrics.toSeq)
    assert(predictions(back.transform(cancer)) == predictions(fitted.transform(cancer)))
  }

  test("a search space with a stage choice is refused at save time, naming the choice") {
    val rf = new RandomForestClassifier().setNumTrees(5)
    val space = ParamSpace().addStageChoice(lr, "classifier",
      lr -> ParamSpace().add(lr.regParam, Hp.loguniform("lr.regParam", math.log(1e-4), 0.0)),
      rf -> ParamSpace())
    Seq[Validator](new CrossValidator().setNumFolds(2), new TrainValidationSplit()).foreach { v =>
      v.setEstimator(pipe).setEvaluator(evaluator).setSearchSpace(space)
      val target = dir(s"choice-${v.uid}")
      val err = intercept[UnsupportedOperationException](v.write.save(target))
      assert(err.getMessage.contains("stage choice 'classifier'") && err.getMessage.contains(target), err.getMessage)
      assert(!new File(target).exists, "a refused save wrote something")
    }
  }
}
