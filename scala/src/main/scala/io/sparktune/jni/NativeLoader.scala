package io.sparktune.jni

import java.io.{File, FileNotFoundException, IOException}
import java.nio.channels.FileChannel
import java.nio.file.{Files, Path, StandardCopyOption, StandardOpenOption}
import java.nio.file.attribute.PosixFilePermissions
import java.security.MessageDigest
import java.util.Locale

import scala.util.control.NonFatal

/**
 * Loads sparktune's native library once per JVM, from the jar that carries it at
 * `io/sparktune/native/<os>/<arch>/libsparktune_jni.so` (`.dylib` on macOS), as DataFusion Comet
 * does, with arch names normalised (amd64 and x86_64 are one arch, as are aarch64 and arm64).
 *
 * The library is copied to `<java.io.tmpdir>/sparktune-native-<user>/<sha256>-<name>` (a file
 * named by its content, so that JVMs of different sparktune versions never overwrite each other's,
 * and an existing copy is reused only if its content still matches), under a file lock so that
 * concurrent JVMs do not write the same file at once.
 *
 * The first failure is remembered and rethrown (as a [[SparktuneNativeException]] whose message
 * names the resource and the os/arch): a library that failed to load is not retried.
 *
 * Development override: the system property or environment variable `SPARKTUNE_NATIVE_LIB` (the
 * property first) = the path of a built library, loaded as it is.
 */
object NativeLoader {

  /** The library's base name (`libsparktune_jni.so` on Linux). */
  val LibraryName = "sparktune_jni"

  /** The system property and environment variable of the development override. */
  val OverrideKey = "SPARKTUNE_NATIVE_LIB"

  /** `linux` or `darwin`; other systems keep their lowercased name (and find no library in the jar). */
  def os: String = normaliseOs(System.getProperty("os.name", ""))

  /** `x86_64` or `aarch64`; other archs keep their lowercased name. */
  def arch: String = normaliseArch(System.getProperty("os.arch", ""))

  /** Where the jar carries the library for this os and arch. */
  def resourcePath: String = s"io/sparktune/native/$os/$arch/${System.mapLibraryName(LibraryName)}"

  // The same normalisation as the build's (project/NativeLibrary.scala), which puts the library there.
  private[jni] def normaliseOs(name: String): String = {
    val n = name.toLowerCase(Locale.ROOT)
    if (n.startsWith("linux")) "linux"
    else if (n.startsWith("mac") || n.startsWith("darwin")) "darwin"
    else n.replaceAll("[^a-z0-9]+", "")
  }

  private[jni] def normaliseArch(name: String): String = name.toLowerCase(Locale.ROOT) match {
    case "amd64" | "x86_64" | "x86-64" => "x86_64"
    case "aarch64" | "arm64" => "aarch64"
    case other => other.replaceAll("[^a-z0-9_]+", "")
  }

  private sealed trait State
  private case object NotLoaded extends State
  private final case class Loaded(from: String) extends State
  private final case class Failed(error: SparktuneNativeException) extends State

  @volatile private var state: State = NotLoaded

  /** Where the library was loaded from (a `jar:` or `file:` URL, or the override), once loaded. */
  def loadedFrom: Option[String] = state match {
    case Loaded(from) => Some(from)
    case _ => None
  }

  /** Loads the library unless it is loaded; throws [[SparktuneNativeException]] if it cannot be. */
  def load(): Unit = state match {
    case Loaded(_) => // the common case, without taking the lock
    case _ => loadOnce()
  }

  private def loadOnce(): Unit = synchronized {
    state match {
      case Loaded(_) =>
      case Failed(first) =>
        throw new SparktuneNativeException(s"${first.getMessage} (remembered from the first attempt)", first)
      case NotLoaded =>
        try state = Loaded(loadLibrary())
        catch {
          // UnsatisfiedLinkError is a LinkageError, which NonFatal does not match.
          case e @ (_: LinkageError | NonFatal(_)) =>
            val failure = new SparktuneNativeException(failureMessage(e), e)
            state = Failed(failure)
            throw failure
        }
    }
  }

  private def overrideSetting: Option[(String, String)] =
    Option(System.getProperty(OverrideKey)).map(p => s"system property $OverrideKey" -> p)
      .orElse(Option(System.getenv(OverrideKey)).map(p => s"environment variable $OverrideKey" -> p))
      .filter(_._2.nonEmpty)

  private def failureMessage(e: Throwable): String = overrideSetting match {
    case Some((where, path)) =>
      s"cannot load sparktune's native library from $where = $path ($os/$arch): $e"
    case None =>
      s"cannot load sparktune's native library from resource $resourcePath (os/arch $os/$arch, from " +
        s"os.name '${System.getProperty("os.name")}', os.arch '${System.getProperty("os.arch")}'): $e; " +
        s"a jar without a library for this platform needs $OverrideKey = the path of a libsparktune_jni built for it"
  }

  private def loadLibrary(): String = overrideSetting match {
    case Some((where, path)) =>
      val file = new File(path).getAbsoluteFile
      if (!file.isFile) throw new FileNotFoundException(s"$file (given by $where) is not a file")
      System.load(file.getPath)
      s"$where: $file"
    case None =>
      val loader = Option(classOf[Native].getClassLoader).getOrElse(ClassLoader.getSystemClassLoader)
      val url = Option(loader.getResource(resourcePath)).getOrElse(
        throw new FileNotFoundException(s"resource $resourcePath is not on the classpath"))
      val bytes = {
        val in = url.openStream()
        try in.readAllBytes()
        finally in.close()
      }
      System.load(extract(bytes).toString)
      url.toString
  }

  /** The library's bytes as a file in a private temp directory, shared by this user's JVMs. */
  private def extract(bytes: Array[Byte]): Path = {
    val digest = sha256(bytes)
    val (dir, fresh) = privateDir()
    val target = dir.resolve(s"${digest.take(16)}-${System.mapLibraryName(LibraryName)}")
    val lockFile = dir.resolve(".lock")
    if (fresh) Seq(lockFile, target).foreach(_.toFile.deleteOnExit()) // a fresh dir is this JVM's alone
    val lockChannel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE)
    try {
      val lock = lockChannel.lock()
      try {
        val reusable = Files.isRegularFile(target) && sha256(Files.readAllBytes(target)) == digest
        if (!reusable) {
          // Written aside then moved, so that no JVM ever loads a half-written file.
          val tmp = Files.createTempFile(dir, ".extract-", ".tmp")
          try {
            Files.write(tmp, bytes)
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE)
          } finally Files.deleteIfExists(tmp)
        }
      } finally lock.release()
    } finally lockChannel.close()
    target
  }

  /**
   * `<tmpdir>/sparktune-native-<user>`, readable and writable by its owner only: a library loaded
   * from a directory others can write to could be swapped for theirs. When that directory exists but
   * belongs to someone else or is open to others, a fresh private directory (true) is used instead.
   */
  private def privateDir(): (Path, Boolean) = {
    val user = System.getProperty("user.name", "unknown").replaceAll("[^A-Za-z0-9._-]+", "_")
    val shared = new File(System.getProperty("java.io.tmpdir"), s"sparktune-native-$user").toPath
    val posix = shared.getFileSystem.supportedFileAttributeViews.contains("posix")
    try {
      if (!Files.isDirectory(shared)) {
        if (posix) Files.createDirectories(shared, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")))
        else Files.createDirectories(shared)
      }
      val ownedByUs = !posix || Files.getOwner(shared).getName == System.getProperty("user.name")
      val private_ = !posix || PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)).drop(3) == "------"
      if (ownedByUs && private_) (shared, false) else freshDir()
    } catch {
      case _: IOException => freshDir()
    }
  }

  private def freshDir(): (Path, Boolean) = {
    val dir = Files.createTempDirectory("sparktune-native-")
    dir.toFile.deleteOnExit() // registered first, so deleted last: after the files in it
    (dir, true)
  }

  private def sha256(bytes: Array[Byte]): String =
    MessageDigest.getInstance("SHA-256").digest(bytes).map(b => f"${b & 0xff}%02x").mkString
}
