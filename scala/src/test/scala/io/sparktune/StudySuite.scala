package io.sparktune

import java.io.ByteArrayInputStream
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path, StandardOpenOption}

import scala.jdk.CollectionConverters._
import scala.util.Using

import org.apache.arrow.memory.RootAllocator
import org.apache.arrow.vector.ipc.ArrowStreamReader
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import io.sparktune.space.{Hp, SearchSpace}

/** The Scala Study over the native core: ask / tell, outcomes, stores, the grid, the Arrow table. */
class StudySuite extends AnyFunSuite with BeforeAndAfterAll {

  private val tempDir = Files.createTempDirectory("sparktune-study-")

  override def afterAll(): Unit =
    Using.resource(Files.walk(tempDir))(_.sorted(java.util.Comparator.reverseOrder[Path]()).forEach(p => Files.delete(p)))

  private val space = SearchSpace(Hp.dict(
    "lr" -> Hp.loguniform("lr", -7.0, 0.0),
    "depth" -> Hp.randint("depth", 2, 8),
    "model" -> Hp.choice("model", "a", Map("b" -> Hp.uniform("b", 0.0, 1.0)))))

  private def tempStore(): Path = Files.createTempDirectory(tempDir, "store-").resolve("study.journal")

  test("ask, tell and best, maximizing; values as JSON and as Scala") {
    Using.resource(Study.create(space, seed = 42, direction = "maximize")) { study =>
      assert(study.direction == "maximize" && study.labels == Seq("lr", "depth", "model", "b"))
      val asked = study.ask(5)
      assert(asked.map(_.id) == (0 until 5) && asked.forall(_.isRunning) && asked.forall(_.value.isEmpty))
      for (t <- asked) {
        assert(t.values.get("depth").isIntegralNumber && t.point("depth") == t.values.get("depth").asLong.toDouble)
        val scala = t.valuesAsScala.asInstanceOf[Map[String, Any]]
        assert(scala.keys.toSeq == Seq("lr", "depth", "model") && scala("depth").isInstanceOf[Long])
        assert(t.point.contains("b") == (t.point("model") == 1.0), "b is active only in option 1")
        assert(t.point.keys.toSeq == study.labels.filter(t.point.contains), "points in label order")
      }
      asked.foreach(t => study.tell(t.id, Outcome.ok(t.values.get("lr").asDouble, Map("depth" -> t.point("depth")))))
      val best = study.best.getOrElse(fail("no best"))
      assert(best.value.contains(asked.map(_.values.get("lr").asDouble).max))
      assert(best.isOk && best.metrics("depth") == best.point("depth") && best.finishedMs.exists(_ >= best.startedMs))
      assert(study.trials.map(_.state) == Seq.fill(5)("ok") && study.numTrials == 5)
    }
  }

  test("fail and cancelled outcomes keep their reasons and metrics; a fail's non-finite value is dropped") {
    Using.resource(Study.create(space)) { study =>
      study.ask(3)
      val failed = study.tell(0, Outcome.fail("diverged", Map("epochs" -> 3.0)).copy(value = Some(Double.NaN)))
      assert(failed.state == "fail" && failed.error.contains("diverged") && failed.value.isEmpty && failed.metrics == Map("epochs" -> 3.0))
      assert(study.tell(1, Outcome.cancelled).state == "cancelled")
      val why = study.tell(2, Outcome.cancelled("timeout"))
      assert(why.error.contains("timeout"))
      assert(study.best.isEmpty)
      assert(Trial.fromJson(why.toJson) == why, "toJson and fromJson round-trip")
    }
  }

  test("a non-finite value or metric is refused with the trial id; the trial stays running") {
    Using.resource(Study.create(space)) { study =>
      study.ask(1)
      val nan = intercept[IllegalArgumentException](study.tell(0, Outcome.ok(Double.NaN)))
      assert(nan.getMessage == "trial 0: value NaN is not finite, tell it as fail")
      val inf = intercept[IllegalArgumentException](study.tell(0, Outcome.ok(1.0).withMetric("loss", Double.PositiveInfinity)))
      assert(inf.getMessage.contains("trial 0: metric 'loss' is Infinity"), inf.getMessage)
      assert(study.trials.head.isRunning)
      assert(study.tell(0, Outcome.ok(1.0)).isOk)
    }
  }

  test("telling twice is IllegalStateException naming the trial and its state; an unknown id is IllegalArgumentException") {
    Using.resource(Study.create(space)) { study =>
      study.ask(1)
      study.tell(0, Outcome.ok(1.0))
      val twice = intercept[IllegalStateException](study.tell(0, Outcome.ok(2.0)))
      assert(twice.getMessage.contains("trial 0 is ok"), twice.getMessage)
      val unknown = intercept[IllegalArgumentException](study.tell(5, Outcome.ok(2.0)))
      assert(unknown.getMessage.contains("unknown trial 5"), unknown.getMessage)
    }
  }

  test("a closed study: ask, tell, trials and close again are IllegalStateException") {
    val study = Study.create(space)
    study.ask(1)
    study.close()
    for (use <- Seq[() => Any](() => study.ask(1), () => study.tell(0, Outcome.ok(1.0)), () => study.trials,
        () => study.best, () => study.warnings, () => study.trialsArrow, () => study.close())) {
      val e = intercept[IllegalStateException](use())
      assert(e.getMessage.contains(s"study handle ${study.handle} is closed"), e.getMessage)
    }
  }

  test("the same seed gives the same trials; another seed other trials; a negative seed is its unsigned value") {
    def draws(seed: Long) = Using.resource(Study.create(space, seed = seed))(_.ask(20).map(_.point))
    assert(draws(3) == draws(3))
    assert(draws(3) != draws(4))
    val unsigned = Using.resource(Study.create(space, seed = -1L))(_.ask(3).map(_.point))
    val json = Using.resource(Study.fromConfig(
      s"""{"space": ${space.toJson}, "seed": 18446744073709551615}"""))(_.ask(3).map(_.point))
    assert(unsigned == json)
  }

  test("a study with a store: close, reopen with the same store, same trials; the draws go on as uninterrupted") {
    val store = tempStore()
    val before = Using.resource(Study.create(space, seed = 9, store = Some(store.toString))) { study =>
      study.ask(4)
      study.tell(0, Outcome.ok(0.5, Map("m" -> 1.0)))
      study.tell(1, Outcome.fail("boom"))
      study.tell(2, Outcome.cancelled)
      study.trials
    }
    Using.resource(Study.create(space, seed = 9, store = Some(store.toString))) { study =>
      val after = study.trials
      assert(after.take(3) == before.take(3))
      // Trial 3 was running when its process let go: it comes back cancelled.
      assert(after(3).state == "cancelled" && after(3).error.contains("abandoned: the process running it stopped"))
      assert(after(3).point == before(3).point)
      assert(study.best.map(_.id).contains(0L))
      val next = study.ask(2).map(_.point)
      val uninterrupted = Using.resource(Study.create(space, seed = 9))(_.ask(6).map(_.point))
      assert(next == uninterrupted.drop(4))
    }
  }

  test("a store reopened with another config names the file and what differs") {
    val store = tempStore()
    Using.resource(Study.create(space, store = Some(store.toString)))(_.ask(1))
    val e = intercept[IllegalArgumentException](Study.create(space, direction = "maximize", store = Some(store.toString)))
    assert(e.getMessage.contains(store.toString) && e.getMessage.contains("direction"), e.getMessage)
  }

  test("a torn last record of a store is dropped with a warning naming the file and byte offset") {
    val store = tempStore()
    Using.resource(Study.create(space, store = Some(store.toString))) { study =>
      study.ask(1)
      study.tell(0, Outcome.ok(1.0))
    }
    val good = Files.size(store)
    Files.write(store, """{"record": "tell", "id": 0, "out""".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND)
    Using.resource(Study.create(space, store = Some(store.toString))) { study =>
      val warning = study.warnings.mkString
      assert(warning.contains(store.toString) && warning.contains(s"byte offset $good"), warning)
      assert(study.trials.map(_.state) == Seq("ok"))
    }
    assert(Files.size(store) == good)
  }

  test("the grid sampler through Scala: itertools.product order, the last label fastest, then exhausted") {
    val grid = SearchSpace(Hp.dict("a" -> Hp.choice("a", 1, 2), "b" -> Hp.choice("b", "x", "y", "z")))
    Using.resource(Study.create(grid, sampler = "grid")) { study =>
      val values = study.ask(4).map(_.values.toString) ++ study.ask(100).map(_.values.toString)
      assert(values == Seq(1, 2).flatMap(a => Seq("x", "y", "z").map(b => s"""{"a":$a,"b":"$b"}""")))
      assert(study.ask(1).isEmpty)
    }
  }

  test("the grid sampler: conditional labels get a sub-grid per option, in order") {
    val grid = SearchSpace(Hp.dict(
      "m" -> Hp.choice("m", Map("c" -> Hp.randint("c", 0, 2)), "plain"),
      "d" -> Hp.uniformint("d", 0, 4, 2)))
    Using.resource(Study.create(grid, sampler = "grid")) { study =>
      val values = study.ask(100).map(_.values.toString)
      val want = Seq("""{"c":0}""", """{"c":1}""", "\"plain\"").flatMap(m => Seq(0, 2, 4).map(d => s"""{"m":$m,"d":$d}"""))
      assert(values == want)
    }
  }

  test("a continuous parameter in a grid names its label") {
    val e = intercept[IllegalArgumentException](Study.create(Hp.dict("x" -> Hp.uniform("x", 0, 1)), sampler = "grid"))
    assert(e.getMessage == "continuous parameter 'x' (uniform) cannot be enumerated in a grid")
  }

  test("a study from JSON text, and a sampler config object") {
    val json = """{"sparktune_space": 1, "root": {"hp": "randint", "label": "r", "low": 0, "high": 3}}"""
    Using.resource(Study.create(json, sampler = """{"kind": "grid"}""")) { study =>
      assert(study.ask(10).map(_.point("r")) == Seq(0.0, 1.0, 2.0))
    }
    val e = intercept[IllegalArgumentException](Study.create(json, direction = "sideways"))
    assert(e.getMessage.contains("sideways"), e.getMessage)
  }

  test("trialsArrow is an Arrow IPC stream of the trials table") {
    Using.resource(Study.create(space, seed = 1)) { study =>
      study.ask(3)
      study.tell(0, Outcome.ok(0.25, Map("auc" -> 0.9)))
      study.tell(1, Outcome.fail("nope"))
      val bytes = study.trialsArrow
      Using.resource(new RootAllocator()) { allocator =>
        Using.resource(new ArrowStreamReader(new ByteArrayInputStream(bytes), allocator)) { reader =>
          val root = reader.getVectorSchemaRoot
          var rows = 0
          while (reader.loadNextBatch()) rows += root.getRowCount
          val names = root.getSchema.getFields.asScala.map(_.getName)
          assert(rows == 3)
          assert(Seq("id", "state", "value", "error", "point", "values", "param.lr", "param.depth", "metric.auc")
            .forall(names.contains), names)
        }
      }
    }
  }
}
