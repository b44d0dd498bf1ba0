//! Health expressions (`calc`, `warn`, `crit`) with Netdata 1.37's semantics
//! (protocol.md §9.1): parse once at load, evaluate every `every` against a [`Vars`].

use std::fmt;

/// A parsed expression and the text it came from.
#[derive(Clone, Debug)]
pub struct Expr {
    source: String,
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

/// Why an evaluation has no value: Netdata's evaluation failures (the final result NaN or
/// infinite), with the message it shows as the alarm's error.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// The result is NaN; `unknown` names the variables that had no value, if any.
    NaN { unknown: Vec<String> },
    /// The result is +inf or -inf.
    Infinite,
}

/// Where variables get their values. `None` means unknown (NaN in the expression).
pub trait Vars {
    fn get(&self, name: &str) -> Option<f64>;
}

impl Expr {
    pub fn parse(source: &str) -> Result<Expr, ParseError> {
        Ok(Expr { source: source.to_owned() })
    }

    /// The text as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Netdata's re-printed form (`calc_parsed` in `/api/v1/alarms`).
    pub fn parsed(&self) -> String {
        self.source.clone()
    }

    /// The variable names the expression mentions (without `$` or braces), each once.
    pub fn variables(&self) -> Vec<String> {
        Vec::new()
    }

    pub fn eval(&self, _vars: &dyn Vars) -> Result<f64, EvalError> {
        Err(EvalError::NaN { unknown: Vec::new() })
    }
}
