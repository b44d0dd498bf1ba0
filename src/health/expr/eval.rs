//! Evaluation and re-printing of a parsed expression, with Netdata 1.37's rules for NaN and
//! infinity. Evaluation allocates nothing on the success path: unknown variables are
//! remembered in a 64-bit mask and named only when the result is a NaN failure.
//!
//! The rules (protocol.md §9.1, Netdata's `libnetdata/eval`):
//! - truth: NaN is false, ±inf is true, otherwise non-zero is true; `!`, `&&`, `||` give 0 or
//!   1; `&&`/`||` and `?:` evaluate only what they need, so `0 && $x` never looks `$x` up;
//! - `==`: NaN == NaN and inf == inf (either sign) are true, NaN or inf against a finite
//!   number is false, finite numbers are equal when they differ by less than 1e-7
//!   (Netdata's `considered_equal_ndd`); `!=` is its negation, so `$x != nan` tests "has
//!   a value";
//! - `< > <= >=` are IEEE comparisons: any comparison with NaN is false (so `$x > 5` is 0, a
//!   CLEAR, when `$x` is NaN — only `==`/`!=` give NaN a meaning); inf compares as infinity;
//! - `+ - * /`, prefix `-` and `abs()`: NaN if an operand is NaN, otherwise +inf if an operand
//!   is ±inf, otherwise the IEEE result. NaN is tested first: a missing value stays missing
//!   even next to an infinite one (`nan + inf` is NaN, as `nan * 0` is), which is also what
//!   IEEE arithmetic gives. Infinity loses its sign (`-inf`, `0 - inf` give +inf);
//! - division by zero is IEEE: `x / 0` is ±inf for x ≠ 0 and `0 / 0` is NaN;
//! - prefix `+` returns its operand unchanged;
//! - the final value: NaN is [`EvalError::NaN`] (with the unknown variables that were
//!   looked up, in order of first appearance in the text), ±inf is
//!   [`EvalError::Infinite`]; an unknown variable whose NaN did not reach the result is no
//!   error (`$missing == nan` is 1).

use std::fmt::Write as _;

use super::{BinaryOp, EvalError, Node, NodeId, UnaryOp, Vars};

/// The status constants and their values; Netdata resolves them before any other variable.
const STATUS_CONSTANTS: [(&str, f64); 6] = [
    ("REMOVED", -2.0),
    ("UNDEFINED", -1.0),
    ("UNINITIALIZED", 0.0),
    ("CLEAR", 1.0),
    ("WARNING", 3.0),
    ("CRITICAL", 4.0),
];

/// The value of `$REMOVED`, `$UNDEFINED`, `$UNINITIALIZED`, `$CLEAR`, `$WARNING` or
/// `$CRITICAL` (exact case, without `$`), as expressions see them.
pub fn status_constant(name: &str) -> Option<f64> {
    status_constant_index(name).map(|i| STATUS_CONSTANTS[usize::from(i)].1)
}

pub(super) fn status_constant_index(name: &str) -> Option<u8> {
    STATUS_CONSTANTS.iter().position(|(n, _)| *n == name).map(|i| i as u8)
}

/// Netdata's truth: NaN false, inf true, otherwise non-zero.
fn truth(n: f64) -> bool {
    !n.is_nan() && n != 0.0
}

fn boolean(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

fn equal(a: f64, b: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a.is_infinite() && b.is_infinite();
    }
    (a - b).abs() < 0.000_000_1
}

/// Arithmetic with Netdata's NaN-then-inf rule (see the module comment).
fn arithmetic(a: f64, b: f64, op: impl Fn(f64, f64) -> f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a.is_infinite() || b.is_infinite() {
        f64::INFINITY
    } else {
        op(a, b)
    }
}

/// Where unknown variables are noted during one evaluation.
trait Unknown {
    fn note(&mut self, name: u32);
}

/// Names 0..64 as bits; `more` when a later one was unknown.
#[derive(Default)]
struct Mask {
    bits: u64,
    more: bool,
}

impl Unknown for Mask {
    fn note(&mut self, name: u32) {
        match 1u64.checked_shl(name) {
            Some(bit) => self.bits |= bit,
            None => self.more = true,
        }
    }
}

/// The full list, for the rare failure that involves names past the mask.
impl Unknown for Vec<u32> {
    fn note(&mut self, name: u32) {
        if !self.contains(&name) {
            self.push(name);
        }
    }
}

struct Evaluator<'a, U> {
    nodes: &'a [Node],
    names: &'a [String],
    vars: &'a dyn Vars,
    unknown: U,
}

impl<U: Unknown> Evaluator<'_, U> {
    fn value(&mut self, id: NodeId) -> f64 {
        match self.nodes[id as usize] {
            Node::Number(n) => n,
            Node::Constant(i) => STATUS_CONSTANTS[usize::from(i)].1,
            Node::Variable(i) => match self.vars.get(&self.names[i as usize]) {
                Some(n) => n,
                None => {
                    self.unknown.note(i);
                    f64::NAN
                }
            },
            Node::Unary(op, a) => {
                let n = self.value(a);
                match op {
                    UnaryOp::Not => boolean(!truth(n)),
                    UnaryOp::Plus => n,
                    UnaryOp::Minus => arithmetic(n, 0.0, |n, _| -n),
                    UnaryOp::Abs => arithmetic(n, 0.0, |n, _| n.abs()),
                }
            }
            Node::Binary(BinaryOp::And, a, b) => boolean(truth(self.value(a)) && truth(self.value(b))),
            Node::Binary(BinaryOp::Or, a, b) => boolean(truth(self.value(a)) || truth(self.value(b))),
            Node::Binary(op, a, b) => {
                let (x, y) = (self.value(a), self.value(b));
                match op {
                    BinaryOp::Equal => boolean(equal(x, y)),
                    BinaryOp::NotEqual => boolean(!equal(x, y)),
                    BinaryOp::Less => boolean(x < y),
                    BinaryOp::LessOrEqual => boolean(x <= y),
                    BinaryOp::Greater => boolean(x > y),
                    BinaryOp::GreaterOrEqual => boolean(x >= y),
                    BinaryOp::Add => arithmetic(x, y, |x, y| x + y),
                    BinaryOp::Subtract => arithmetic(x, y, |x, y| x - y),
                    BinaryOp::Multiply => arithmetic(x, y, |x, y| x * y),
                    BinaryOp::Divide => arithmetic(x, y, |x, y| x / y),
                    BinaryOp::And | BinaryOp::Or => unreachable!("handled above"),
                }
            }
            Node::Ternary(c, a, b) => {
                if truth(self.value(c)) {
                    self.value(a)
                } else {
                    self.value(b)
                }
            }
        }
    }
}

pub(super) fn eval(nodes: &[Node], names: &[String], vars: &dyn Vars) -> Result<f64, EvalError> {
    let Some(root) = nodes.len().checked_sub(1) else {
        return Err(EvalError::NaN { unknown: Vec::new() });
    };
    let root = root as NodeId;
    let mut ev = Evaluator { nodes, names, vars, unknown: Mask::default() };
    let n = ev.value(root);
    if n.is_infinite() {
        return Err(EvalError::Infinite);
    }
    if !n.is_nan() {
        return Ok(n);
    }
    let Mask { bits, more } = ev.unknown;
    let unknown = if more {
        let mut full = Evaluator { nodes, names, vars, unknown: Vec::new() };
        full.value(root);
        let mut ids = full.unknown;
        ids.sort_unstable();
        ids.into_iter().map(|i| names[i as usize].clone()).collect()
    } else {
        (0..64u32).filter(|i| bits & (1 << i) != 0).map(|i| names[i as usize].clone()).collect()
    };
    Err(EvalError::NaN { unknown })
}

/// Append Netdata's `parsed_as` form of the tree to `out`.
pub(super) fn print(nodes: &[Node], names: &[String], out: &mut String) {
    if let Some(root) = nodes.len().checked_sub(1) {
        print_node(nodes, names, root as NodeId, out);
    }
}

pub(super) fn print_node(nodes: &[Node], names: &[String], id: NodeId, out: &mut String) {
    match nodes[id as usize] {
        Node::Number(n) => print_number(n, out),
        Node::Constant(i) => {
            let _ = write!(out, "${{{}}}", STATUS_CONSTANTS[usize::from(i)].0);
        }
        Node::Variable(i) => {
            let _ = write!(out, "${{{}}}", names[i as usize]);
        }
        Node::Unary(op, a) => {
            out.push_str(match op {
                UnaryOp::Not => "!",
                UnaryOp::Minus => "-",
                UnaryOp::Plus => "+",
                UnaryOp::Abs => "abs(",
            });
            print_node(nodes, names, a, out);
            if op == UnaryOp::Abs {
                out.push(')');
            }
        }
        Node::Binary(op, a, b) => {
            out.push('(');
            print_node(nodes, names, a, out);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            print_node(nodes, names, b, out);
            out.push(')');
        }
        Node::Ternary(c, a, b) => {
            out.push('(');
            print_node(nodes, names, c, out);
            out.push_str(" ? ");
            print_node(nodes, names, a, out);
            out.push_str(" : ");
            print_node(nodes, names, b, out);
            out.push(')');
        }
    }
}

/// `nan`, `inf`, or the number with 7 decimals and its trailing zeros (and a bare trailing
/// point) removed: `75`, `0.8`, `0` for 1e-9.
fn print_number(n: f64, out: &mut String) {
    if n.is_nan() {
        out.push_str("nan");
        return;
    }
    if n.is_infinite() {
        out.push_str("inf");
        return;
    }
    let start = out.len();
    let _ = write!(out, "{n:.7}");
    while out.len() > start + 1 && out.ends_with('0') {
        out.pop();
    }
    if out.len() > start + 1 && out.ends_with('.') {
        out.pop();
    }
}
