package io.sparktune.ml.tracking

import java.io.IOException
import java.net.URI
import java.net.http.{HttpClient, HttpRequest, HttpResponse}
import java.nio.charset.StandardCharsets
import java.nio.file.{Files, Path, Paths}
import java.time.Duration

import com.fasterxml.jackson.databind.JsonNode
import com.fasterxml.jackson.databind.node.{ArrayNode, ObjectNode}

import io.sparktune.JsonCodec

/** An MLflow REST call the server answered with an error (`status` is the HTTP status). */
final class MlflowRestException(val status: Int, val errorCode: String, message: String)
  extends IOException(message)

/** A run as the server describes it. */
final case class RunInfo(runId: String, experimentId: String, artifactUri: String, status: String)

/**
 * The few calls of MLflow's REST API 2.0 that tuning needs, on `java.net.http` and Spark's Jackson.
 * MLflow's Java client (org.mlflow:mlflow-client) is not used: its jar bundles its own protobuf,
 * Guava and HttpClient (shaded, ~10 MB) that sparktune's one jar would have to carry, it does not
 * split batches, and it logs artifacts by running the Python `mlflow` CLI. Every call has a
 * timeout, so a server that does not answer costs a bounded wait.
 */
final class MlflowRestClient(val endpoint: MlflowEndpoint, timeout: Duration) {

  private val http: HttpClient = HttpClient.newBuilder()
    .connectTimeout(timeout)
    .followRedirects(HttpClient.Redirect.NORMAL)
    .build()

  private val Api = "/api/2.0/mlflow"

  /** The id of experiment `name`, created when `create` and it does not exist. */
  def experimentId(name: String, create: Boolean): String =
    try call("GET", s"$Api/experiments/get-by-name?experiment_name=${enc(name)}", None)
      .path("experiment").path("experiment_id").asText
    catch {
      case e: MlflowRestException if create && e.errorCode == "RESOURCE_DOES_NOT_EXIST" =>
        call("POST", s"$Api/experiments/create", Some(JsonCodec.obj().put("name", name))).path("experiment_id").asText
    }

  def createRun(experimentId: String, startMs: Long, runName: Option[String], tags: Seq[(String, String)]): RunInfo = {
    val body = JsonCodec.obj().put("experiment_id", experimentId).put("start_time", startMs)
    runName.foreach(body.put("run_name", _))
    body.set[ObjectNode]("tags", keyValues(MlflowLimits.tags(tags)))
    runInfo(call("POST", s"$Api/runs/create", Some(body)))
  }

  def getRun(runId: String): RunInfo = runInfo(call("GET", s"$Api/runs/get?run_id=${enc(runId)}", None))

  /**
   * Logs params, metrics and tags in as many log-batch calls as MLflow's limits need. A server that
   * refuses a param value longer than 500 characters (MLflow < 2) gets the batch again, cut to 500.
   */
  def logBatch(runId: String, params: Seq[(String, String)], metrics: Seq[MetricPoint], tags: Seq[(String, String)],
      timestampMs: Long): Unit =
    MlflowLimits.batches(MlflowLimits.params(params), MlflowLimits.metrics(metrics), MlflowLimits.tags(tags))
      .foreach { b =>
        def send(ps: Seq[(String, String)]): Unit = {
          val ms = JsonCodec.factory.arrayNode()
          b.metrics.foreach { m =>
            ms.add(JsonCodec.obj().put("key", m.key).put("value", m.value).put("timestamp", timestampMs).put("step", m.step))
          }
          val body = JsonCodec.obj().put("run_id", runId)
          body.set[ObjectNode]("params", keyValues(ps))
          body.set[ObjectNode]("metrics", ms)
          body.set[ObjectNode]("tags", keyValues(b.tags))
          call("POST", s"$Api/runs/log-batch", Some(body))
        }
        try send(b.params)
        catch {
          case e: MlflowRestException if e.errorCode == "INVALID_PARAMETER_VALUE" &&
              b.params.exists(_._2.length > MlflowLimits.OldMaxParamValueLength) =>
            send(MlflowLimits.params(b.params, MlflowLimits.OldMaxParamValueLength))
        }
      }

  /** Ends a run: FINISHED, FAILED or KILLED. */
  def endRun(runId: String, status: String, endMs: Long): Unit =
    call("POST", s"$Api/runs/update", Some(JsonCodec.obj().put("run_id", runId).put("status", status)
      .put("end_time", endMs)))

  /**
   * Writes `text` as artifact `fileName` of a run whose artifact root is `artifactUri`: through the
   * server's artifact proxy (`mlflow-artifacts:`), or as a file when the root is a local path or
   * `file:` URI (a server with a local `--default-artifact-root` on this machine).
   */
  def logArtifact(artifactUri: String, fileName: String, text: String): Unit = {
    val bytes = text.getBytes(StandardCharsets.UTF_8)
    artifactUri match {
      case proxied if proxied.startsWith("mlflow-artifacts:") =>
        // mlflow-artifacts:/path or mlflow-artifacts://host:port/path: the path under the proxy's root.
        val path = URI.create(proxied).getPath.stripPrefix("/").stripSuffix("/")
        val encoded = (path.split('/').toSeq :+ fileName).filter(_.nonEmpty).map(enc).mkString("/")
        send(HttpRequest.newBuilder(URI.create(endpoint.url(s"/api/2.0/mlflow-artifacts/artifacts/$encoded")))
          .PUT(HttpRequest.BodyPublishers.ofByteArray(bytes)), "PUT artifact " + fileName)
      case local if local.startsWith("file:") || local.startsWith("/") =>
        val dir: Path = if (local.startsWith("file:")) Paths.get(URI.create(local)) else Paths.get(local)
        Files.createDirectories(dir)
        Files.write(dir.resolve(fileName), bytes)
      case other =>
        throw new IOException(s"artifact store '$other' is not supported by sparktune (mlflow-artifacts: or a local path)")
    }
  }

  /** The JSON answer of a REST call; an MlflowRestException for an error answer. */
  private def call(method: String, path: String, body: Option[ObjectNode]): JsonNode = {
    val builder = HttpRequest.newBuilder(URI.create(endpoint.url(path))).header("Content-Type", "application/json")
    body match {
      case Some(b) => builder.method(method, HttpRequest.BodyPublishers.ofString(JsonCodec.write(b)))
      case None => builder.method(method, HttpRequest.BodyPublishers.noBody())
    }
    val text = send(builder, s"$method $path".takeWhile(_ != '?'))
    if (text.isEmpty) JsonCodec.obj() else JsonCodec.parse(text, s"MLflow's answer to $method $path")
  }

  private def send(builder: HttpRequest.Builder, what: String): String = {
    builder.timeout(timeout)
    endpoint.authorization.foreach(builder.header("Authorization", _))
    val response = http.send(builder.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8))
    val status = response.statusCode
    if (status / 100 == 2) response.body
    else {
      val answer = scala.util.Try(JsonCodec.mapper.readTree(response.body)).toOption
      val code = answer.map(_.path("error_code").asText).getOrElse("")
      val message = answer.map(_.path("message").asText).filter(_.nonEmpty).getOrElse(response.body.take(300))
      throw new MlflowRestException(status, code, s"$what at $endpoint: HTTP $status $code $message".trim)
    }
  }

  private def runInfo(answer: JsonNode): RunInfo = {
    val info = answer.path("run").path("info")
    RunInfo(info.path("run_id").asText, info.path("experiment_id").asText, info.path("artifact_uri").asText,
      info.path("status").asText)
  }

  private def keyValues(kvs: Seq[(String, String)]): ArrayNode = {
    val array = JsonCodec.factory.arrayNode()
    kvs.foreach { case (k, v) => array.add(JsonCodec.obj().put("key", k).put("value", v)) }
    array
  }

  private def enc(s: String): String = java.net.URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20")
}

object MlflowRestClient {
  /** Each request's timeout (connect, and the whole exchange). */
  val DefaultTimeout: Duration = Duration.ofSeconds(10)
}
