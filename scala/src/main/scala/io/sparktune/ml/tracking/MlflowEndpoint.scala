package io.sparktune.ml.tracking

import java.io.File
import java.nio.charset.StandardCharsets
import java.nio.file.Files
import java.util.{Base64, Locale}

import scala.jdk.CollectionConverters._

/**
 * A tracking server's REST root and the Authorization header it wants, resolved from a tracking URI
 * the way MLflow's clients read it:
 *  - `http://…`, `https://…`: MLFLOW_TRACKING_TOKEN (bearer) or MLFLOW_TRACKING_USERNAME and
 *    MLFLOW_TRACKING_PASSWORD (basic);
 *  - `databricks`, `databricks://<profile>`: the workspace host and token from DATABRICKS_HOST and
 *    DATABRICKS_TOKEN (default profile), else from the profile of ~/.databrickscfg
 *    (DATABRICKS_CONFIG_FILE).
 * Other URIs (sqlite:, file:, a local path) are local stores the JVM cannot write through REST.
 */
final case class MlflowEndpoint(baseUrl: String, authorization: Option[String]) {
  /** The URL of REST path `path` (e.g. "/api/2.0/mlflow/runs/create"). */
  def url(path: String): String = baseUrl + path

  override def toString: String = baseUrl // never the credentials
}

object MlflowEndpoint {

  /** The endpoint of `uri`, or why there is none. */
  def resolve(uri: String, env: Map[String, String], home: File): Either[String, MlflowEndpoint] = {
    val trimmed = uri.trim
    val scheme = trimmed.takeWhile(_ != ':').toLowerCase(Locale.ROOT) // "databricks" has no colon
    scheme match {
      case "http" | "https" =>
        val auth = env.get("MLFLOW_TRACKING_TOKEN").filter(_.nonEmpty).map(t => s"Bearer $t").orElse {
          for (u <- env.get("MLFLOW_TRACKING_USERNAME"); p <- env.get("MLFLOW_TRACKING_PASSWORD")) yield basic(u, p)
        }
        Right(MlflowEndpoint(trimmed.stripSuffix("/"), auth))
      case "databricks" => databricks(profileOf(trimmed), env, home)
      case _ => Left(s"tracking URI '$trimmed' is not an http(s) or databricks URI (the scheme the JVM logs to)")
    }
  }

  /** `databricks://prod` -> prod; `databricks` -> DEFAULT. */
  private def profileOf(uri: String): String =
    uri.split("://", 2).lift(1).map(_.takeWhile(_ != '/')).filter(_.nonEmpty).getOrElse("DEFAULT")

  private def basic(user: String, password: String): String =
    "Basic " + Base64.getEncoder.encodeToString(s"$user:$password".getBytes(StandardCharsets.UTF_8))

  private def databricks(profile: String, env: Map[String, String], home: File): Either[String, MlflowEndpoint] = {
    val fromEnv = if (profile != "DEFAULT") None else
      for (h <- env.get("DATABRICKS_HOST"); t <- env.get("DATABRICKS_TOKEN")) yield (h, s"Bearer $t")
    val config = new File(env.getOrElse("DATABRICKS_CONFIG_FILE", new File(home, ".databrickscfg").getPath))
    fromEnv.orElse(profileIn(config, profile)) match {
      case Some((host, auth)) =>
        val base = (if (host.contains("://")) host else s"https://$host").stripSuffix("/")
        Right(MlflowEndpoint(base, Some(auth)))
      case None => Left(s"no Databricks host and token for profile '$profile' (DATABRICKS_HOST and " +
        s"DATABRICKS_TOKEN, or a [$profile] section with host and token in $config)")
    }
  }

  /** (host, Authorization) from the [profile] section of a databrickscfg ini file. */
  private def profileIn(file: File, profile: String): Option[(String, String)] =
    if (!file.isFile) None else {
      val lines = Files.readAllLines(file.toPath, StandardCharsets.UTF_8).asScala.map(_.trim)
      val section = lines.dropWhile(_ != s"[$profile]").drop(1).takeWhile(l => !l.startsWith("["))
      val kv = section.filter(l => l.contains("=") && !l.startsWith("#") && !l.startsWith(";")).map { l =>
        val i = l.indexOf('=')
        l.take(i).trim -> l.drop(i + 1).trim
      }.toMap
      kv.get("host").flatMap { host =>
        kv.get("token").map(t => host -> s"Bearer $t")
          .orElse(for (u <- kv.get("username"); p <- kv.get("password")) yield host -> basic(u, p))
      }
    }
}
