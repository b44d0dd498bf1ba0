//! Health expressions (`calc`, `warn`, `crit`) with Netdata 1.37's semantics
//! (protocol.md §9.1): parse once at load, evaluate every `every` against a [`Vars`].
//!
//! - [`parse`](self::parse) turns the text into a flat arena of nodes (bounded: at most
//!   [`MAX_SOURCE_LEN`] bytes and [`MAX_DEPTH`] levels, so neither parsing nor evaluation can
//!   exhaust the stack);
//! - [`eval`](self::eval) walks that arena without allocating and re-prints it the way
//!   Netdata's `calc_parsed` does.
//!
//! The grammar, lowest precedence first (Netdata's operator table):
//!
//! | level | operators | notes |
//! |---|---|---|
//! | 1 | `&&` `\|\|` `AND` `OR` | same level, left associative, short-circuit |
//! | 2 | `==` `!=` `<` `>` `<=` `>=` | `=` means `==`; `<>` is refused; chains are left associative |
//! | 3 | `+` `-` | |
//! | 4 | `*` `/` | |
//! | 5 | prefix `!` `NOT` `-` `+`, `abs(…)` | bind to the single operand after them |
//! | 6 | `c ? a : b` | see below |
//!
//! The ternary sits *above* every binary operator, as in Netdata: its condition is the
//! single operand just before `?` and each branch is a single operand (a literal, a
//! variable, a prefix operation or a parenthesised expression). So `$a > $b ? 1 : 2` means
//! `$a > ($b ? 1 : 2)`, `$c ? 1 : 2 + 3` means `($c ? 1 : 2) + 3`, and `$c ? 1 + 1 : 2` is a
//! parse error. Netdata's stock files always parenthesise the condition
//! (`$this > (($status >= $WARNING) ? (75) : (85))`, `($this > 0) ? 1 : 0`), which reads the
//! same under this rule and under C's; a user file written without parentheses gets the same
//! value it gets from Netdata.
//!
//! One deliberate difference: Netdata 1.37 builds the tree by rotating at most one node when
//! an operator binds tighter than the previous one, so three rising levels without
//! parentheses (`$a > $b + $c * 2`, `$x && $y > $z + 1`) come out as `$a > (($b + $c) * 2)`
//! there. nanodata applies the table above at every depth (`$a > ($b + ($c * 2))`). Every
//! expression in Debian's stock `health.d` reads the same either way (a unit test checks it).

mod eval;
mod parse;
#[cfg(test)]
mod stock_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

pub use eval::status_constant;

/// Longest expression text accepted, in bytes.
pub const MAX_SOURCE_LEN: usize = 4096;
/// Deepest nesting accepted: parentheses and prefix operators while parsing, and the depth of
/// the resulting tree (a chain `1 + 1 + … + 1` is as deep as it has operators).
pub const MAX_DEPTH: usize = 64;
/// Longest variable name accepted, in bytes (Netdata's `EVAL_MAX_VARIABLE_NAME_LENGTH`).
pub const MAX_VARIABLE_NAME_LEN: usize = 300;

/// A parsed expression and the text it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    source: String,
    /// The tree, children before parents; the root is the last node.
    nodes: Vec<Node>,
    /// Names looked up through [`Vars`], each once, in order of first appearance.
    names: Vec<String>,
}

/// Why an expression text is not an expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset in the source where parsing stopped.
    pub pos: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.message, self.pos)
    }
}

impl std::error::Error for ParseError {}

/// Why an evaluation has no value: Netdata's evaluation failures (the final result NaN or
/// infinite), with the message it shows as the alarm's error.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// The result is NaN; `unknown` names the variables that had no value, if any.
    NaN { unknown: Vec<String> },
    /// The result is +inf or -inf.
    Infinite,
}

impl fmt::Display for EvalError {
    /// Netdata's wording (`expression_strerror`), naming the undefined variables.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvalError::NaN { unknown } if unknown.is_empty() => f.write_str("value is unset"),
            EvalError::NaN { unknown } => {
                for name in unknown {
                    write!(f, "[ undefined variable '{name}' ] ")?;
                }
                f.write_str("undefined variable")
            }
            EvalError::Infinite => f.write_str("computed value is infinite"),
        }
    }
}

impl std::error::Error for EvalError {}

/// Where variables get their values. `None` means unknown (NaN in the expression).
///
/// The status constants (`$REMOVED`, `$UNDEFINED`, `$UNINITIALIZED`, `$CLEAR`, `$WARNING`,
/// `$CRITICAL`) never reach `get`: Netdata resolves them before any chart, family or host
/// variable, so they are fixed at parse time (see [`status_constant`]).
pub trait Vars {
    fn get(&self, name: &str) -> Option<f64>;
}

impl Vars for HashMap<String, f64> {
    fn get(&self, name: &str) -> Option<f64> {
        HashMap::get(self, name).copied()
    }
}

impl Vars for HashMap<&str, f64> {
    fn get(&self, name: &str) -> Option<f64> {
        HashMap::get(self, name).copied()
    }
}

/// An array of `(name, value)` pairs, searched in order (handy in tests and for small sets).
impl<const N: usize> Vars for [(&str, f64); N] {
    fn get(&self, name: &str) -> Option<f64> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }
}

/// Any `Fn(&str) -> Option<f64>` closure.
impl<F: Fn(&str) -> Option<f64>> Vars for F {
    fn get(&self, name: &str) -> Option<f64> {
        self(name)
    }
}

/// No variables at all: every `$name` is unknown.
pub struct NoVars;

impl Vars for NoVars {
    fn get(&self, _name: &str) -> Option<f64> {
        None
    }
}

impl Expr {
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        let (nodes, names) = parse::parse(source)?;
        Ok(Expr { source: source.to_owned(), nodes, names })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Netdata's re-printed form (`calc_parsed` in `/api/v1/alarms`): every binary and
    /// ternary operation in parentheses, `AND`/`OR`/`=` as `&&`/`||`/`==`, variables as
    /// `${name}`, numbers with up to 7 decimals and no trailing zeros.
    pub fn parsed(&self) -> String {
        let mut out = String::with_capacity(self.source.len() + 16);
        eval::print(&self.nodes, &self.names, &mut out);
        out
    }

    /// The variable names the expression mentions (without `$` or braces), each once.
    /// The status constants are not listed: they are not looked up (see [`Vars`]).
    pub fn variables(&self) -> Vec<String> {
        self.names.clone()
    }

    /// The value, or why there is none. Allocates nothing unless the result is NaN with
    /// unknown variables (the list in the error).
    pub fn eval(&self, vars: &dyn Vars) -> Result<f64, EvalError> {
        eval::eval(&self.nodes, &self.names, vars)
    }
}

/// Index of a node in [`Expr::nodes`].
type NodeId = u32;

/// One node of the tree. Children always have smaller indices than their parent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Node {
    /// A literal (`nan` and `inf` included).
    Number(f64),
    /// A status constant: its index in the constant table (value fixed at parse time).
    Constant(u8),
    /// A variable looked up through [`Vars`]: its index in [`Expr::names`].
    Variable(u32),
    Unary(UnaryOp, NodeId),
    Binary(BinaryOp, NodeId, NodeId),
    /// `condition ? then : else`
    Ternary(NodeId, NodeId, NodeId),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnaryOp {
    Not,
    Minus,
    Plus,
    Abs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BinaryOp {
    And,
    Or,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Add,
    Subtract,
    Multiply,
    Divide,
}

impl BinaryOp {
    /// Binding strength, 1 (loosest) to 4; all binary operators are left associative.
    fn level(self) -> u8 {
        match self {
            BinaryOp::And | BinaryOp::Or => 1,
            BinaryOp::Equal
            | BinaryOp::NotEqual
            | BinaryOp::Less
            | BinaryOp::LessOrEqual
            | BinaryOp::Greater
            | BinaryOp::GreaterOrEqual => 2,
            BinaryOp::Add | BinaryOp::Subtract => 3,
            BinaryOp::Multiply | BinaryOp::Divide => 4,
        }
    }

    /// How `parsed()` prints it (Netdata's spelling).
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
            BinaryOp::Equal => "==",
            BinaryOp::NotEqual => "!=",
            BinaryOp::Less => "<",
            BinaryOp::LessOrEqual => "<=",
            BinaryOp::Greater => ">",
            BinaryOp::GreaterOrEqual => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Subtract => "-",
            BinaryOp::Multiply => "*",
            BinaryOp::Divide => "/",
        }
    }
}
