package io.sparktune.ml.tracking

import java.io.File
import java.net.{ServerSocket, URI, URLEncoder}
import java.net.http.{HttpClient, HttpRequest, HttpResponse}
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path}
import java.time.Duration
import java.util.concurrent.TimeUnit

import scala.jdk.CollectionConverters._

import com.fasterxml.jackson.databind.{JsonNode, ObjectMapper}

/**
 * A real MLflow tracking server (`mlflow server` from the Python install on PATH) on a free port of
 * 127.0.0.1, with a sqlite store and local artifacts under `dir`, and a small REST reader for the
 * tests' checks (independent of the tracker's own client). Close stops it and its workers.
 */
final class MlflowServer(val dir: Path) extends AutoCloseable {

  val port: Int = MlflowServer.freePort()
  val uri: String = s"http://127.0.0.1:$port"
  val log: File = dir.resolve("server.log").toFile

  private val process: Process = new ProcessBuilder("mlflow", "server",
    "--backend-store-uri", s"sqlite:///${dir.resolve("mlflow.db")}",
    "--default-artifact-root", dir.resolve("art").toString,
    "--artifacts-destination", dir.resolve("proxied").toString,
    "--host", "127.0.0.1", "--port", port.toString, "--workers", "1")
    .directory(dir.toFile)
    .redirectErrorStream(true)
    .redirectOutput(log)
    .start()

  private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()
  private val mapper = new ObjectMapper()

  /** Waits for /health (10 to 12 s on an idle machine; more on a busy one). */
  def awaitHealthy(timeout: Duration = Duration.ofSeconds(240)): this.type = {
    val deadline = System.nanoTime() + timeout.toNanos
    while (!healthy) {
      if (!process.isAlive) throw new IllegalStateException(s"mlflow server exited: ${tail()}")
      if (System.nanoTime() > deadline) throw new IllegalStateException(s"mlflow server not healthy: ${tail()}")
      Thread.sleep(500)
    }
    this
  }

  private def healthy: Boolean =
    try http.send(HttpRequest.newBuilder(URI.create(s"$uri/health")).timeout(Duration.ofSeconds(5)).build(),
      HttpResponse.BodyHandlers.ofString()).statusCode == 200
    catch { case _: java.io.IOException => false }

  private def tail(): String = Files.readAllLines(log.toPath).asScala.takeRight(20).mkString("\n")

  def get(path: String, query: (String, String)*): JsonNode = {
    val q = query.map { case (k, v) => s"$k=${URLEncoder.encode(v, StandardCharsets.UTF_8)}" }.mkString("&")
    send(HttpRequest.newBuilder(URI.create(s"$uri/api/2.0/mlflow/$path${if (q.isEmpty) "" else "?" + q}")).GET())
  }

  def post(path: String, body: String): JsonNode =
    send(HttpRequest.newBuilder(URI.create(s"$uri/api/2.0/mlflow/$path")).header("Content-Type", "application/json")
      .POST(HttpRequest.BodyPublishers.ofString(body)))

  private def send(b: HttpRequest.Builder): JsonNode = {
    val r = http.send(b.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString())
    val node = mapper.readTree(if (r.body.isEmpty) "{}" else r.body)
    if (r.statusCode != 200) throw new IllegalStateException(s"HTTP ${r.statusCode}: ${r.body}")
    node
  }

  def createExperiment(name: String, artifactLocation: Option[String] = None): String =
    post("experiments/create", mapper.writeValueAsString(
      (Map("name" -> name) ++ artifactLocation.map("artifact_location" -> _)).asJava)).get("experiment_id").asText

  def experimentExists(name: String): Boolean =
    try { get("experiments/get-by-name", "experiment_name" -> name); true }
    catch { case e: IllegalStateException if e.getMessage.contains("RESOURCE_DOES_NOT_EXIST") => false }

  /** Every run of the experiment. */
  def runs(experimentId: String): Seq[JsonNode] =
    post("runs/search", s"""{"experiment_ids": ["$experimentId"], "max_results": 1000}""")
      .path("runs").elements.asScala.toSeq

  def run(runId: String): JsonNode = get("runs/get", "run_id" -> runId).get("run")

  def metricHistory(runId: String, key: String): Seq[(Long, Double)] =
    get("metrics/get-history", "run_id" -> runId, "metric_key" -> key).path("metrics").elements.asScala
      .map(m => m.get("step").asLong -> m.get("value").asDouble).toSeq.sortBy(_._1)

  def artifacts(runId: String): Seq[String] =
    get("artifacts/list", "run_id" -> runId).path("files").elements.asScala.map(_.get("path").asText).toSeq

  override def close(): Unit = {
    val children = process.descendants().iterator().asScala.toSeq
    process.destroy()
    children.foreach(_.destroy())
    if (!process.waitFor(15, TimeUnit.SECONDS)) process.destroyForcibly()
    children.foreach(c => if (c.isAlive) c.destroyForcibly())
  }
}

object MlflowServer {

  /**
   * One server for every suite of the test JVM, each suite with experiments of its own names: a
   * start takes 10 to 40 s, so it is paid once. Stopped when the JVM exits.
   */
  lazy val shared: MlflowServer = {
    val server = new MlflowServer(Files.createTempDirectory("sparktune-mlflow"))
    sys.addShutdownHook(server.close())
    server.awaitHealthy()
  }

  def freePort(): Int = {
    val s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress)
    try s.getLocalPort finally s.close()
  }

  /** A run's tags, params or latest metrics as a map. */
  def entries(run: JsonNode, kind: String): Map[String, String] =
    run.path("data").path(kind).elements.asScala.map(e => e.get("key").asText -> e.get("value").asText).toMap
}
