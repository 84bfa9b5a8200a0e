package io.sparktune

import scala.collection.immutable.VectorMap
import scala.jdk.CollectionConverters._
import scala.util.control.NonFatal

import com.fasterxml.jackson.databind.{DeserializationFeature, JsonNode, ObjectMapper}
import com.fasterxml.jackson.databind.node.{JsonNodeFactory, ObjectNode}

/**
 * The Jackson plumbing of the Scala API (Jackson is on Spark's classpath, hence Provided). JSON has
 * no NaN or infinity (Jackson would write the string "NaN"): callers refuse them before building.
 */
private[sparktune] object JsonCodec {

  val mapper: ObjectMapper = new ObjectMapper()
    // One JSON value per text: `{...} trailing` is malformed, not silently cut.
    .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)

  def factory: JsonNodeFactory = mapper.getNodeFactory

  /** Parses `text`; `what` names the thing in the IllegalArgumentException of null or malformed text. */
  def parse(text: String, what: String): JsonNode = {
    if (text == null) throw new IllegalArgumentException(s"$what is null")
    try mapper.readTree(text)
    catch {
      case NonFatal(e) => throw new IllegalArgumentException(s"$what: malformed JSON: ${e.getMessage}", e)
    }
  }

  def write(node: JsonNode): String = mapper.writeValueAsString(node)

  /** `s` as a JSON string literal. */
  def quote(s: String): String = mapper.writeValueAsString(s)

  def obj(): ObjectNode = factory.objectNode()

  /** A JSON value as Scala: objects as VectorMap (key order kept), arrays as Vector, integers as Long. */
  def toScala(node: JsonNode): Any = node match {
    case null => null
    case n if n.isNull || n.isMissingNode => null
    case n if n.isObject => VectorMap.from(n.properties.iterator.asScala.map(e => e.getKey -> toScala(e.getValue)))
    case n if n.isArray => n.elements.asScala.map(toScala).toVector
    case n if n.isBoolean => n.booleanValue
    case n if n.isIntegralNumber => if (n.canConvertToLong) n.longValue else BigInt(n.bigIntegerValue)
    case n if n.isNumber => n.doubleValue
    case n => n.asText
  }
}
