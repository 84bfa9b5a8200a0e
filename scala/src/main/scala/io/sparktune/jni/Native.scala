package io.sparktune.jni

/**
 * The JNI methods of sparktune's native library (crate `sparktune-jni`), all instance methods as in
 * DataFusion Comet; creating an instance loads the library (once per JVM, see [[NativeLoader]]).
 *
 * JSON in, JSON out, on the forms of the contract (search space schema 1, study config, trial,
 * outcome). Errors: IllegalArgumentException for wrong input (null strings name the argument),
 * IllegalStateException for a closed or unknown handle or a trial that is not running,
 * java.io.IOException for a store's file, [[SparktuneNativeException]] for a panic or internal error.
 *
 * A handle is a number in a registry on the native side, never a pointer: a stale one is an error,
 * not a crash. Calls on one study are serialised there; different studies run in parallel.
 * Most code wants [[io.sparktune.Study]] rather than this class.
 */
class Native {
  NativeLoader.load()

  /** The version of the native library. */
  @native def version(): String

  /** Validates a search space; `{"labels": [...]}` in first-appearance order. */
  @native def validateSpace(spaceJson: String): String

  /** The values of a space at a raw point (`space_eval`), as JSON. */
  @native def spaceEval(spaceJson: String, pointJson: String): String

  /** Creates a study (or resumes it from its store); its handle. */
  @native def createStudy(configJson: String): Long

  /** `n` new running trials (fewer when a grid is done), as a JSON array. */
  @native def ask(handle: Long, n: Int): String

  /** Starts a trial at a given raw point (active labels only); the trial's JSON. */
  @native def enqueue(handle: Long, pointJson: String): String

  /** Records the outcome of a running trial; the told trial's JSON. */
  @native def tell(handle: Long, trialId: Long, outcomeJson: String): String

  /** Every trial, as a JSON array in id order. */
  @native def trials(handle: Long): String

  /** The best ok trial's JSON, or `null`. */
  @native def best(handle: Long): String

  /** `{"direction": .., "n_trials": .., "warnings": [..], "labels": [..]}`. */
  @native def info(handle: Long): String

  /** The trials table as an Arrow IPC stream. */
  @native def trialsArrow(handle: Long): Array[Byte]

  /** Closes a study (its journal is closed); closing twice or an unknown handle: IllegalStateException. */
  @native def closeStudy(handle: Long): Unit

  /**
   * A pruner's decision on one intermediate value: `configJson` `{"kind": "median" | "truncation" |
   * "bandit", ...}`, `reportJson` `{"direction", "step", "value", "others": [..]}`; answers
   * `{"prune": bool, "reason": string | null}`.
   */
  @native def shouldPrune(configJson: String, reportJson: String): String

  /** Panics on purpose in Rust, for the tests that a panic becomes a [[SparktuneNativeException]]. */
  @native def testPanic(message: String): Unit
}
