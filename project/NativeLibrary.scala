import java.util.Locale

import scala.sys.process.{Process, ProcessLogger}

import sbt._
import sbt.util.Logger

/**
 * The Rust side of the build: runs cargo for crate sparktune-jni and places its cdylib where the jar
 * carries it, `io/sparktune/native/<os>/<arch>/`. The os and arch names are the ones
 * io.sparktune.jni.NativeLoader computes at run time; the two normalisations must stay the same.
 */
object NativeLibrary {

  /** `linux` or `darwin` (others keep their lowercased name: the loader then finds no library for them). */
  def os(name: String = System.getProperty("os.name")): String = {
    val n = name.toLowerCase(Locale.ROOT)
    if (n.startsWith("linux")) "linux"
    else if (n.startsWith("mac") || n.startsWith("darwin")) "darwin"
    else n.replaceAll("[^a-z0-9]+", "")
  }

  /** One name per arch: amd64 and x86_64 are x86_64, aarch64 and arm64 are aarch64. */
  def arch(name: String = System.getProperty("os.arch")): String = name.toLowerCase(Locale.ROOT) match {
    case "amd64" | "x86_64" | "x86-64" => "x86_64"
    case "aarch64" | "arm64" => "aarch64"
    case other => other.replaceAll("[^a-z0-9_]+", "")
  }

  /** `io/sparktune/native/<os>/<arch>/libsparktune_jni.so` (`.dylib` on macOS). */
  def resourcePath: String = s"io/sparktune/native/${os()}/${arch()}/${System.mapLibraryName("sparktune_jni")}"

  /**
   * Builds the library (cargo is incremental, so an unchanged crate costs a fraction of a second) and
   * copies it under `resourceDir` when it changed; returns the copy.
   */
  def build(repoRoot: File, resourceDir: File, log: Logger): File = {
    val cargo = sys.env.getOrElse("CARGO", "cargo")
    val command = Seq(cargo, "build", "--release", "-p", "sparktune-jni")
    log.info(s"native library: ${command.mkString(" ")} (in $repoRoot)")
    // cargo reports progress on stderr: it is information here, not an error.
    val exit = Process(command, repoRoot) ! ProcessLogger(line => log.info(line), line => log.info(line))
    if (exit != 0) sys.error(s"native library: `${command.mkString(" ")}` failed with exit code $exit (see the output above)")

    val targetDir = sys.env.get("CARGO_TARGET_DIR").map(d => new File(d)) match {
      case Some(dir) if dir.isAbsolute => dir
      case Some(dir) => repoRoot / dir.getPath
      case None => repoRoot / "target"
    }
    val built = targetDir / "release" / System.mapLibraryName("sparktune_jni")
    if (!built.isFile) sys.error(s"native library: cargo succeeded but $built does not exist")
    val dest = resourceDir / resourcePath
    val unchanged = dest.isFile && dest.length == built.length && dest.lastModified == built.lastModified
    if (!unchanged) {
      log.info(s"native library: $built -> $dest")
      IO.copyFile(built, dest, preserveLastModified = true)
    }
    dest
  }
}
