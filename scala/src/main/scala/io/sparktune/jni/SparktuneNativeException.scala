package io.sparktune.jni

/**
 * A failure inside sparktune's native code that is not the caller's doing: a Rust panic (a bug, whose
 * message and place the exception carries) or an internal error, or a native library that cannot
 * be loaded. Wrong input arrives as IllegalArgumentException, a closed study or a finished trial as
 * IllegalStateException, and a store's file problems as java.io.IOException instead.
 */
class SparktuneNativeException(message: String, cause: Throwable) extends RuntimeException(message, cause) {

  /** The constructor the native side calls (JNI ThrowNew takes a message only). */
  def this(message: String) = this(message, null)
}
