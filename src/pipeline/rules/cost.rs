//! A worst-case cost bound for CEL programs, checked before they run.
//!
//! # Why
//! `cel` 0.15 has no cost or step limit: its parser caps nesting at 96 levels, but evaluation
//! runs to the end, with no hook to stop it. CEL has no unbounded loops — its only loops are the
//! macros `all`, `exists`, `exists_one`, `map` and `filter`, each over a list or map it has in
//! hand — yet bounded is not cheap: macros nest, so `l.exists(a, l.exists(b, … false))` takes
//! `|l|^depth` steps, and a 4096-character expression nests a hundred of them over a ten-element
//! list literal (10^100 steps). The schema's length bound alone bounds nothing useful, and a
//! deadline cannot stop a computation on a thread. So the program is priced before it runs,
//! and refused over [`MAX_COST`].
//!
//! # The model
//! Every value an expression can produce is described by a [`Shape`]: for each depth (the value,
//! its elements or fields, theirs, …) an upper bound on `count`, the length of the longest list
//! or map at that depth or below (what a macro iterates), and on `weight`, the total size of one
//! value at that depth (nodes plus string bytes: what copying, comparing or searching costs).
//! Variables get the shapes of their actual values, so `a.name` inside
//! `stage.actions.all(a, …)` weighs one name, not the whole context. A node costs one unit
//! plus its children, plus the weight it copies or scans; a macro costs its range, plus `count`
//! times (loop condition + step + one element copied). The accumulator of `map` and `filter`
//! grows by what one step appends, so it is bounded by its start plus `count` such steps.
//! Operations are priced by the largest value they touch, which holds for the standard library
//! the default environment has (no extension adds `split`, `repeat` or `range`).
//!
//! A macro's own accumulator is named `@result`, which no user can write (`@` is not allowed in
//! identifiers); a nested macro never reads its parent's, so a nested macro's price is the same
//! whichever accumulator bound its parent is priced with, and is computed once per node.

use std::collections::HashMap;

use cel::common::ast::{ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue, operators};

/// The most units a program may cost. Measured in a debug build on this project's 2-core
/// machines: three nested `exists` over a 40-element list (64,000 loop steps, priced about a
/// million units) ran in 0.16 s, while four levels (2.6 million steps, refused) ran 6.5 s and
/// five levels 4 minutes. Conditions over 50 actions and 200 variables, two macros deep, price
/// under a million.
pub const MAX_COST: u64 = 5_000_000;

/// Deepest expression nesting priced (and so evaluated): the parser allows 96 levels of
/// parentheses, but chains such as `a + b + … + z` nest one level per operator.
pub const MAX_DEPTH: usize = 300;

/// Depths of a value's shape kept; deeper levels are bounded by the last one kept.
const MAX_LEVELS: usize = 16;

/// Upper bounds on a value, level by level: `(count, weight)` of the value itself, of any of its
/// elements or field values, of theirs, … Both decrease with depth, so a level past the end is
/// bounded by the last one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shape(Vec<(u64, u64)>);

impl Shape {
    /// The shape of a scalar of `weight`.
    fn scalar(weight: u64) -> Self {
        Self(vec![(0, weight)])
    }

    /// The shape of a JSON value (how context variables are measured).
    pub fn of_json(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::String(text) => Self::scalar(1 + text.len() as u64),
            serde_json::Value::Array(items) => {
                let children: Vec<Shape> = items.iter().map(Self::of_json).collect();
                Self::container(items.len(), &children)
            }
            serde_json::Value::Object(entries) => {
                let children: Vec<Shape> = entries
                    .iter()
                    .flat_map(|(key, value)| {
                        [Self::scalar(1 + key.len() as u64), Self::of_json(value)]
                    })
                    .collect();
                Self::container(entries.len(), &children)
            }
            _ => Self::scalar(1),
        }
    }

    /// A list or map of `entries` entries whose parts (elements, or keys and values) are
    /// `children`.
    fn container(entries: usize, children: &[Shape]) -> Self {
        let weight = children
            .iter()
            .fold(1u64, |sum, child| sum.saturating_add(child.weight()));
        let deeper = children
            .iter()
            .fold(Shape(Vec::new()), |all, child| all.max(child));
        let mut levels = vec![((entries as u64).max(deeper.count()), weight)];
        levels.extend(deeper.0);
        levels.truncate(MAX_LEVELS);
        Self(levels)
    }

    fn level(&self, depth: usize) -> (u64, u64) {
        self.0
            .get(depth)
            .or(self.0.last())
            .copied()
            .unwrap_or((0, 1))
    }

    fn count(&self) -> u64 {
        self.level(0).0
    }

    fn weight(&self) -> u64 {
        self.level(0).1
    }

    /// An element or field value of this value.
    fn inner(&self) -> Self {
        if self.0.len() > 1 {
            Self(self.0[1..].to_vec())
        } else {
            self.clone()
        }
    }

    /// Bounds both this and `other`.
    fn max(&self, other: &Shape) -> Shape {
        let levels = self.0.len().max(other.0.len()).max(1);
        Shape(
            (0..levels)
                .map(|depth| {
                    let (mine, theirs) = (self.level(depth), other.level(depth));
                    (mine.0.max(theirs.0), mine.1.max(theirs.1))
                })
                .collect(),
        )
    }

    /// The concatenation of this and `other`.
    fn concatenated(&self, other: &Shape) -> Shape {
        let mut joined = self.max(other);
        joined.0[0] = (
            self.count().saturating_add(other.count()),
            self.weight().saturating_add(other.weight()),
        );
        joined
    }

    /// This value after `times` appends of `step`, each adding at most `step`'s top level.
    fn grown(&self, step: &Shape, times: u64) -> Shape {
        let mut grown = self.max(step);
        grown.0[0] = (
            self.count()
                .saturating_add(times.saturating_mul(step.count())),
            self.weight()
                .saturating_add(times.saturating_mul(step.weight())),
        );
        grown
    }
}

/// Why a program is refused before it runs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CostError {
    /// The worst case is over [`MAX_COST`].
    #[error(
        "its worst case costs more than {limit} evaluation units: nest fewer macros (all, exists, map, filter) or iterate shorter lists"
    )]
    TooCostly {
        /// The limit.
        limit: u64,
    },
    /// The expression nests deeper than [`MAX_DEPTH`].
    #[error("it nests deeper than {limit} levels: split long chains of operators")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
}

/// The worst-case cost of `program` in units, given its variables' shapes by name.
///
/// # Errors
/// [`CostError`] when the program is over a limit.
pub fn check(program: &cel::Program, variables: &HashMap<String, Shape>) -> Result<u64, CostError> {
    let mut pricer = Pricer {
        variables,
        scope: Vec::new(),
        priced_macros: HashMap::new(),
    };
    Ok(pricer.price(program.expression(), 0)?.cost)
}

/// Upper bounds for one expression: its cost, and the value it produces.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Estimate {
    cost: u64,
    shape: Shape,
}

struct Pricer<'a> {
    variables: &'a HashMap<String, Shape>,
    /// Macro variables in scope, innermost last, with the shapes of what they hold.
    scope: Vec<(&'a str, Shape)>,
    /// Prices of macros already priced, by node id (see the module docs).
    priced_macros: HashMap<u64, Estimate>,
}

impl<'a> Pricer<'a> {
    fn price(&mut self, node: &'a IdedExpr, depth: usize) -> Result<Estimate, CostError> {
        if depth > MAX_DEPTH {
            return Err(CostError::TooDeep { limit: MAX_DEPTH });
        }
        let estimate = match &node.expr {
            Expr::Unspecified => Estimate::of(1, Shape::scalar(1)),
            Expr::Literal(literal) => Estimate::of(1, Shape::scalar(literal_weight(literal))),
            Expr::Ident(name) => {
                let shape = self
                    .scope
                    .iter()
                    .rev()
                    .find(|(bound, _)| *bound == name.as_str())
                    .map(|(_, shape)| shape.clone())
                    .or_else(|| self.variables.get(name).cloned())
                    // An unknown name fails at once when evaluated.
                    .unwrap_or_else(|| Shape::scalar(1));
                Estimate::of(1, shape)
            }
            Expr::Select(select) => {
                let operand = self.price(&select.operand, depth + 1)?;
                let shape = operand.shape.inner();
                Estimate::of(
                    operand
                        .cost
                        .saturating_add(1)
                        .saturating_add(shape.weight()),
                    shape,
                )
            }
            Expr::List(list) => {
                let parts = self.price_all(list.elements.iter(), depth)?;
                Estimate::collection(list.elements.len(), parts)
            }
            Expr::Map(map) => {
                let parts = self.price_all(entry_parts(&map.entries), depth)?;
                Estimate::collection(map.entries.len(), parts)
            }
            Expr::Struct(structure) => {
                let parts = self.price_all(entry_parts(&structure.entries), depth)?;
                Estimate::collection(structure.entries.len(), parts)
            }
            Expr::Call(call) => {
                let arguments = call.target.iter().map(|target| &**target).chain(&call.args);
                let parts = self.price_all(arguments, depth)?;
                Estimate::call(&call.func_name, parts)
            }
            Expr::Comprehension(comprehension) => {
                if let Some(priced) = self.priced_macros.get(&node.id) {
                    priced.clone()
                } else {
                    let priced = self.price_macro(comprehension, depth)?;
                    self.priced_macros.insert(node.id, priced.clone());
                    priced
                }
            }
        };
        if estimate.cost > MAX_COST {
            return Err(CostError::TooCostly { limit: MAX_COST });
        }
        Ok(estimate)
    }

    fn price_all(
        &mut self,
        nodes: impl Iterator<Item = &'a IdedExpr>,
        depth: usize,
    ) -> Result<Vec<Estimate>, CostError> {
        nodes.map(|node| self.price(node, depth + 1)).collect()
    }

    fn price_macro(
        &mut self,
        comprehension: &'a ComprehensionExpr,
        depth: usize,
    ) -> Result<Estimate, CostError> {
        let range = self.price(&comprehension.iter_range, depth + 1)?;
        let start = self.price(&comprehension.accu_init, depth + 1)?;
        let iterations = range.shape.count();
        let element = range.shape.inner();
        let scope_size = self.scope.len();
        self.scope.push((&comprehension.iter_var, element.clone()));
        if let Some(second) = &comprehension.iter_var2 {
            self.scope.push((second, element.clone()));
        }

        // What one step appends: the step priced with an empty accumulator. A step that keeps
        // the accumulator's size (all, exists, exists_one) is told apart from one that appends
        // (map, filter) by pricing it once more on the starting accumulator.
        let accumulator = comprehension.accu_var.as_str();
        self.scope.push((accumulator, Shape(Vec::new())));
        let growth = self.price(&comprehension.loop_step, depth + 1)?;
        self.scope.pop();
        self.scope.push((accumulator, start.shape.clone()));
        let first_step = self.price(&comprehension.loop_step, depth + 1)?;
        self.scope.pop();
        let steady = start.shape.max(&growth.shape);
        let grown = if first_step.shape.count() <= steady.count()
            && first_step.shape.weight() <= steady.weight()
        {
            steady
        } else {
            start.shape.grown(&growth.shape, iterations)
        };
        self.scope.push((accumulator, grown.clone()));
        let step = self.price(&comprehension.loop_step, depth + 1)?;
        let condition = self.price(&comprehension.loop_cond, depth + 1)?;
        let result = self.price(&comprehension.result, depth + 1)?;
        self.scope.truncate(scope_size);

        // A step that more than appends (no standard macro has one) could grow without bound.
        let bound = grown.grown(&growth.shape, 1);
        if step.shape.count() > bound.count() || step.shape.weight() > bound.weight() {
            return Err(CostError::TooCostly { limit: MAX_COST });
        }
        let per_iteration = step
            .cost
            .saturating_add(condition.cost)
            .saturating_add(element.weight());
        Ok(Estimate::of(
            1u64.saturating_add(range.cost)
                .saturating_add(start.cost)
                .saturating_add(iterations.saturating_mul(per_iteration))
                .saturating_add(result.cost),
            result.shape,
        ))
    }
}

impl Estimate {
    fn of(cost: u64, shape: Shape) -> Self {
        Self { cost, shape }
    }

    /// A list, map or struct literal: built by copying its parts.
    fn collection(entries: usize, parts: Vec<Estimate>) -> Self {
        let cost = sum_costs(&parts);
        let shapes: Vec<Shape> = parts.into_iter().map(|part| part.shape).collect();
        let shape = Shape::container(entries, &shapes);
        Self::of(cost.saturating_add(shape.weight()), shape)
    }

    fn call(function: &str, parts: Vec<Estimate>) -> Self {
        let cost = sum_costs(&parts);
        let scanned = parts
            .iter()
            .fold(0u64, |sum, part| sum.saturating_add(part.shape.weight()));
        let largest = |parts: &[Estimate]| {
            parts
                .iter()
                .fold(Shape(Vec::new()), |all, part| all.max(&part.shape))
        };
        match (function, parts.as_slice()) {
            // Concatenation copies both sides.
            (operators::ADD, [left, right]) => {
                let shape = left.shape.concatenated(&right.shape);
                Self::of(cost.saturating_add(shape.weight()), shape)
            }
            (operators::CONDITIONAL, [_, branches @ ..]) => Self::of(cost, largest(branches)),
            // An index or optional index returns an element, copied.
            (operators::INDEX | operators::OPT_INDEX, [container, key]) => {
                let shape = container.shape.inner();
                let copied = shape.weight().saturating_add(key.shape.weight());
                Self::of(cost.saturating_add(copied), shape)
            }
            // Logic only combines booleans.
            (
                operators::LOGICAL_AND
                | operators::LOGICAL_OR
                | operators::LOGICAL_NOT
                | operators::NOT_STRICTLY_FALSE,
                _,
            ) => Self::of(cost, Shape::scalar(1)),
            // Comparisons and tests scan their arguments once and answer a boolean or a number.
            (
                operators::EQUALS
                | operators::NOT_EQUALS
                | operators::LESS
                | operators::LESS_EQUALS
                | operators::GREATER
                | operators::GREATER_EQUALS
                | operators::IN
                | "size"
                | "contains"
                | "startsWith"
                | "endsWith"
                | "matches"
                | "int"
                | "uint"
                | "double"
                | "bool",
                _,
            ) => Self::of(cost.saturating_add(scanned), Shape::scalar(1)),
            // Anything else scans its arguments at most once and returns no more than the
            // largest of them (arithmetic, `string`, `dyn`, optional values).
            _ => Self::of(cost.saturating_add(scanned), largest(&parts)),
        }
    }
}

fn sum_costs(parts: &[Estimate]) -> u64 {
    parts
        .iter()
        .fold(1u64, |sum, part| sum.saturating_add(part.cost))
}

fn literal_weight(literal: &LiteralValue) -> u64 {
    match literal {
        LiteralValue::String(text) => 1 + text.inner().len() as u64,
        LiteralValue::Bytes(bytes) => 1 + bytes.inner().len() as u64,
        _ => 1,
    }
}

fn entry_parts(entries: &[cel::common::ast::IdedEntryExpr]) -> impl Iterator<Item = &IdedExpr> {
    entries.iter().flat_map(|entry| match &entry.expr {
        EntryExpr::StructField(field) => vec![&field.value],
        EntryExpr::MapEntry(entry) => vec![&entry.key, &entry.value],
    })
}
