//! Grid search: the cartesian product of the discrete parameters, in `itertools.product` order.
//!
//! Labels come in first-appearance order and the last varies fastest, which is what
//! `pyspark.ml.tuning.ParamGridBuilder.build` gives for `addGrid` calls in that order. A choice is
//! one factor whose points are its options in turn, each followed by the grid of its own sub-tree:
//! `{a: choice[{b: choice[1, 2]}, {c: randint(0, 3)}], d: choice[x, y]}` has 2 + 3 = 5 points for
//! `a` times 2 for `d`, enumerated `(a0 b0 d0) (a0 b0 d1) (a0 b1 d0) ... (a1 c2 d1)`.
//!
//! Trial `i` gets grid point `i`, decoded from the index as a mixed-radix number, so nothing is
//! materialised but the uniformint value lists, and a resumed study continues where it stopped.

use super::{Context, Sampler};
use crate::error::{Error, Result};
use crate::space::{quantize, Domain, Node, ParamValue, Point, Space};

/// At most this many distinct values for one uniformint in a grid (they are listed in memory).
const MAX_LISTED_VALUES: usize = 1 << 20;

/// Enumerates the product of the space's discrete parameters; see the module docs for the order.
#[derive(Clone, Debug)]
pub struct GridSampler {
    grid: Grid,
}

#[derive(Clone, Debug)]
struct Grid {
    factors: Vec<Factor>,
    /// The number of points: the product of the factors' counts.
    count: u64,
}

#[derive(Clone, Debug)]
enum Factor {
    /// `low, low + 1, ..., high - 1`.
    Range { label: String, low: i64, count: u64 },
    /// An explicit list of integers (uniformint).
    List { label: String, values: Vec<i64> },
    /// A choice: option `i` followed by the points of `options[i]`.
    Choice { label: String, options: Vec<Grid>, count: u64 },
}

impl Factor {
    fn count(&self) -> u64 {
        match self {
            Factor::Range { count, .. } | Factor::Choice { count, .. } => *count,
            Factor::List { values, .. } => values.len() as u64,
        }
    }
}

impl GridSampler {
    /// The grid of `space`; an error names the first parameter that is not discrete.
    pub fn new(space: &Space) -> Result<GridSampler> {
        Ok(GridSampler { grid: Grid::of(space.root())? })
    }

    /// How many points the grid has.
    pub fn len(&self) -> u64 {
        self.grid.count
    }

    /// Whether the grid has no point (never: a space without parameters has one, the empty point).
    pub fn is_empty(&self) -> bool {
        self.grid.count == 0
    }

    /// Grid point `index`, or `None` past the end.
    pub fn point(&self, index: u64) -> Option<Point> {
        if index >= self.grid.count {
            return None;
        }
        let mut point = Point::new();
        self.grid.decode(index, &mut point);
        Some(point)
    }
}

impl Sampler for GridSampler {
    fn name(&self) -> &'static str {
        "grid"
    }

    fn sample(&mut self, ctx: &Context<'_>) -> Result<Option<Point>> {
        Ok(self.point(ctx.trial_id))
    }
}

fn too_large() -> Error {
    Error::InvalidArgument("the grid has more than 2^64 - 1 points".to_owned())
}

impl Grid {
    fn of(node: &Node) -> Result<Grid> {
        let mut factors = Vec::new();
        collect(node, &mut factors)?;
        let count = factors.iter().try_fold(1u64, |acc, f| acc.checked_mul(f.count()).ok_or_else(too_large))?;
        Ok(Grid { factors, count })
    }

    /// Writes point `index` (< count) of this grid into `point`.
    fn decode(&self, mut index: u64, point: &mut Point) {
        // Mixed radix with the last factor as the lowest digit.
        let mut digits = vec![0u64; self.factors.len()];
        for (digit, factor) in digits.iter_mut().zip(&self.factors).rev() {
            let count = factor.count().max(1);
            *digit = index % count;
            index /= count;
        }
        for (factor, digit) in self.factors.iter().zip(digits) {
            match factor {
                Factor::Range { label, low, .. } => {
                    point.insert(label.clone(), ParamValue::Int(low.wrapping_add(digit as i64)));
                }
                Factor::List { label, values } => {
                    if let Some(&v) = values.get(digit as usize) {
                        point.insert(label.clone(), ParamValue::Int(v));
                    }
                }
                Factor::Choice { label, options, .. } => {
                    let mut rest = digit;
                    for (i, option) in options.iter().enumerate() {
                        if rest < option.count {
                            point.insert(label.clone(), ParamValue::Int(i as i64));
                            option.decode(rest, point);
                            break;
                        }
                        rest -= option.count;
                    }
                }
            }
        }
    }
}

/// The factors of the sub-tree `node`, depth first.
fn collect(node: &Node, factors: &mut Vec<Factor>) -> Result<()> {
    match node {
        Node::Const(_) => Ok(()),
        Node::Dict(entries) => entries.iter().try_for_each(|(_, child)| collect(child, factors)),
        Node::List(items) => items.iter().try_for_each(|child| collect(child, factors)),
        Node::Hp(hp) => {
            let label = hp.label.clone();
            let factor = match hp.domain {
                Domain::RandInt { low, high } => Factor::Range { label, low, count: high.wrapping_sub(low) as u64 },
                Domain::UniformInt { low, high, q } => {
                    Factor::List { values: uniformint_values(&label, low, high, q)?, label }
                }
                Domain::Choice { .. } | Domain::PChoice { .. } => {
                    let options = hp.options.iter().map(Grid::of).collect::<Result<Vec<_>>>()?;
                    let count =
                        options.iter().try_fold(0u64, |acc, g| acc.checked_add(g.count).ok_or_else(too_large))?;
                    Factor::Choice { label, options, count }
                }
                _ => return Err(Error::NotEnumerable { label, kind: hp.domain.kind().name() }),
            };
            factors.push(factor);
            Ok(())
        }
    }
}

/// The distinct values `int(k * q)` for k from round(low / q) to round(high / q).
fn uniformint_values(label: &str, low: f64, high: f64, q: f64) -> Result<Vec<i64>> {
    let first = quantize(low, q) / q;
    let last = quantize(high, q) / q;
    let span = last - first;
    if !(0.0..MAX_LISTED_VALUES as f64).contains(&span) {
        return Err(Error::InvalidArgument(format!(
            "uniformint '{label}' has more than {MAX_LISTED_VALUES} values: too many for a grid"
        )));
    }
    let mut values: Vec<i64> = Vec::new();
    // Counting with an integer keeps the loop finite even where first + 1.0 == first.
    for i in 0..=(span as u64) {
        let v = ((first + i as f64) * q) as i64;
        if values.last() != Some(&v) {
            values.push(v);
        }
    }
    Ok(values)
}
