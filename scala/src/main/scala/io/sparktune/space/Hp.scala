package io.sparktune.space

/**
 * hyperopt's `hp` for Scala: each builder returns an [[Expr]] node of the contract's schema 1, with
 * hyperopt's semantics (bounds of the log kinds are in log space; q kinds round to multiples of q).
 * Options and entries may be plain Scala values (consts), Maps (dicts), Seqs (lists) or Exprs:
 * {{{
 *   val space = SearchSpace(Hp.dict(
 *     "regParam" -> Hp.loguniform("regParam", math.log(1e-4), 0.0),
 *     "model" -> Hp.choice("model",
 *       Map("kind" -> "lr", "elasticNet" -> Hp.uniform("elasticNet", 0.0, 1.0)),
 *       Map("kind" -> "tree", "depth" -> Hp.randint("depth", 2, 10)))))
 * }}}
 * Labels inside a choice's option are active only when that option is chosen. Choice options are
 * varargs: pass a collection as `Hp.choice("c", xs: _*)` (a single Seq is one option, a list).
 */
object Hp {

  /** A float drawn uniformly from [low, high]. */
  def uniform(label: String, low: Double, high: Double): Expr =
    Expr.Numeric("uniform", label, Seq("low" -> low, "high" -> high))

  /** `exp(uniform(low, high))`: low and high are the bounds of the log. */
  def loguniform(label: String, low: Double, high: Double): Expr =
    Expr.Numeric("loguniform", label, Seq("low" -> low, "high" -> high))

  /** `round(uniform(low, high) / q) * q`, a float. */
  def quniform(label: String, low: Double, high: Double, q: Double): Expr =
    Expr.Numeric("quniform", label, Seq("low" -> low, "high" -> high, "q" -> q))

  /** `round(exp(uniform(low, high)) / q) * q`, a float. */
  def qloguniform(label: String, low: Double, high: Double, q: Double): Expr =
    Expr.Numeric("qloguniform", label, Seq("low" -> low, "high" -> high, "q" -> q))

  /** A float from a normal distribution. */
  def normal(label: String, mu: Double, sigma: Double): Expr =
    Expr.Numeric("normal", label, Seq("mu" -> mu, "sigma" -> sigma))

  /** `exp(normal(mu, sigma))`. */
  def lognormal(label: String, mu: Double, sigma: Double): Expr =
    Expr.Numeric("lognormal", label, Seq("mu" -> mu, "sigma" -> sigma))

  /** `round(normal(mu, sigma) / q) * q`, a float. */
  def qnormal(label: String, mu: Double, sigma: Double, q: Double): Expr =
    Expr.Numeric("qnormal", label, Seq("mu" -> mu, "sigma" -> sigma, "q" -> q))

  /** `round(exp(normal(mu, sigma)) / q) * q`, a float. */
  def qlognormal(label: String, mu: Double, sigma: Double, q: Double): Expr =
    Expr.Numeric("qlognormal", label, Seq("mu" -> mu, "sigma" -> sigma, "q" -> q))

  /** An integer in [0, upper), as hyperopt's `randint(label, upper)`. */
  def randint(label: String, upper: Long): Expr = Expr.RandInt(label, 0L, upper)

  /** An integer in [low, high). */
  def randint(label: String, low: Long, high: Long): Expr = Expr.RandInt(label, low, high)

  /** `round(uniform(low, high))` as an integer. */
  def uniformint(label: String, low: Double, high: Double): Expr =
    Expr.Numeric("uniformint", label, Seq("low" -> low, "high" -> high))

  /** `round(uniform(low, high) / q) * q` as an integer. */
  def uniformint(label: String, low: Double, high: Double, q: Double): Expr =
    Expr.Numeric("uniformint", label, Seq("low" -> low, "high" -> high, "q" -> q))

  /** One of `options` (each a Scala value or an Expr), uniformly. */
  def choice(label: String, options: Any*): Expr = Expr.Choice(label, options.map(Expr(_)))

  /** One of the options, option `value` with probability `p`: `Hp.pchoice("c", 0.2 -> "a", 0.8 -> "b")`. */
  def pchoice(label: String, options: (Double, Any)*): Expr =
    Expr.PChoice(label, options.map { case (p, value) => p -> Expr(value) })

  /** A constant: `value` as JSON as it is (a Map becomes a JSON object, not a dict of nodes). */
  def const(value: Any): Expr = Expr.Const(Expr.constValue(value))

  /** A dict with its entries in this order (a Scala `Map` keeps insertion order only up to 4 keys). */
  def dict(entries: (String, Any)*): Expr = Expr.Dict(entries.map { case (k, v) => k -> Expr(v) })

  /** A list of nodes. */
  def list(items: Any*): Expr = Expr.ListOf(items.map(Expr(_)))
}
