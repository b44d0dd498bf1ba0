//! Expressions of the stock files' forms come out as the same tree Netdata 1.37 builds for
//! them (every stock expression of Debian's installed package is parsed, evaluated and
//! printed by `tests/health_config.rs`).
//!
//! Netdata builds its tree by rotating at most one node when an operator binds tighter than
//! the one before it; [`netdata_reading`] re-expresses that rule (from its documented
//! behaviour, in our own types) so the test can show that the stock files never reach the
//! cases where it differs from full precedence climbing.

use super::eval::{print_node, status_constant_index};
use super::parse::{Lexer, Token};
use super::{BinaryOp, Expr, NoVars, Node, NodeId, UnaryOp};

/// Expressions of the forms the stock files use (written here, not copied): thresholds with
/// hysteresis through `$status`, ratios, guards against NaN, `abs()`, chains of `&&`/`||`.
const STOCK_FORMS: &[&str] = &[
    "$this > (($status >= $WARNING) ? (75) : (85))",
    "$this > (($status == $CRITICAL) ? (85) : (95))",
    "$this < (($status >= $WARNING) ? (200) : (100))",
    "($this * 100 / $load_cpu_number) > (($status >= $WARNING) ? 175 : 200)",
    "($active_processors == nan or $active_processors == inf or $active_processors < 2) ? ( 2 ) : ( $active_processors )",
    "$used * 100 / ($avail + $used)",
    "($interface_speed > 0) ? ($this * 100 / ($interface_speed)) : ( nan )",
    "( $nic_speed_max > 0 ) ? ( $nic_speed_max) : ( nan )",
    "$this * 100 / $netfilter_conntrack_max",
    "abs($this) > 10 AND $this != nan",
    "$this > 0 && $this < 5 || $this == -1",
    "($this > 1000) ? (1) : (0)",
    "${system.ram.free} + ${system.ram.cached} - $x.y",
    "$this == 0 OR NOT ($status == $CLEAR)",
    "-$this * 2 / 3 + 1",
];

#[test]
fn stock_forms_read_as_netdata_reads_them() {
    for source in STOCK_FORMS {
        let ours = Expr::parse(source).map(|e| e.parsed());
        let theirs = netdata_reading(source);
        assert!(ours.is_ok(), "{source:?}: {ours:?}");
        assert_eq!(ours.ok(), theirs.ok(), "{source:?}");
        let e = Expr::parse(source).unwrap();
        let _ = e.eval(&NoVars);
    }
}

#[test]
fn netdata_reading_differs_only_on_three_rising_levels() {
    let same = ["1 + 2 * 3", "1 * 2 + 3", "$a > $b ? 1 : 2", "$a > 0 and $b < 2", "-$a * 2"];
    for source in same {
        assert_eq!(netdata_reading(source).ok(), Expr::parse(source).ok().map(|e| e.parsed()));
    }
    assert_eq!(netdata_reading("1 < 2 + 3 * 4").unwrap(), "(1 < ((2 + 3) * 4))");
    assert_eq!(Expr::parse("1 < 2 + 3 * 4").unwrap().parsed(), "(1 < (2 + (3 * 4)))");
}

/// The tree Netdata 1.37 builds for `source`, printed like [`Expr::parsed`]: operands as
/// ours, then for each operator a new node over the previous tree — unless the operator
/// binds tighter than the tree's top binary node (not a parenthesised one), in which case it
/// takes that node's right operand instead; no deeper rotation.
fn netdata_reading(source: &str) -> Result<String, String> {
    let mut p = Netdata {
        lexer: Lexer::new(source),
        peeked: None,
        nodes: Vec::new(),
        strength: Vec::new(),
        names: Vec::new(),
    };
    let root = p.expression()?;
    if p.next()? != Token::End {
        return Err("remaining characters".into());
    }
    let mut out = String::new();
    print_node(&p.nodes, &p.names, root, &mut out);
    Ok(out)
}

struct Netdata<'a> {
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    nodes: Vec<Node>,
    /// Netdata's precedence of each node: binary 2–5, prefix 6, ternary 7, operand or
    /// parenthesised 8.
    strength: Vec<u8>,
    names: Vec<String>,
}

impl<'a> Netdata<'a> {
    fn peek(&mut self) -> Result<Token<'a>, String> {
        if self.peeked.is_none() {
            let (_, t) = self.lexer.next_token().map_err(|e| e.to_string())?;
            self.peeked = Some(t);
        }
        self.peeked.ok_or_else(|| "no token".to_string())
    }

    fn next(&mut self) -> Result<Token<'a>, String> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    fn push(&mut self, node: Node, strength: u8) -> NodeId {
        self.nodes.push(node);
        self.strength.push(strength);
        (self.nodes.len() - 1) as NodeId
    }

    fn operand(&mut self) -> Result<NodeId, String> {
        let node = match self.next()? {
            Token::Number(n) => return Ok(self.push(Node::Number(n), 8)),
            Token::Variable(name) => {
                let node = match status_constant_index(name) {
                    Some(i) => Node::Constant(i),
                    None => {
                        let i = match self.names.iter().position(|n| n == name) {
                            Some(i) => i,
                            None => {
                                self.names.push(name.to_owned());
                                self.names.len() - 1
                            }
                        };
                        Node::Variable(i as u32)
                    }
                };
                return Ok(self.push(node, 8));
            }
            Token::Open => return self.group(),
            Token::Not => Node::Unary(UnaryOp::Not, self.operand()?),
            Token::Minus => Node::Unary(UnaryOp::Minus, self.operand()?),
            Token::Plus => Node::Unary(UnaryOp::Plus, self.operand()?),
            Token::Abs => {
                self.next()?;
                Node::Unary(UnaryOp::Abs, self.group()?)
            }
            t => return Err(format!("unexpected {t:?}")),
        };
        Ok(self.push(node, 6))
    }

    /// The rest of a parenthesised expression: its top node can no longer be rotated.
    fn group(&mut self) -> Result<NodeId, String> {
        let inner = self.expression()?;
        if self.next()? != Token::Close {
            return Err("missing ')'".into());
        }
        self.strength[inner as usize] = 8;
        Ok(inner)
    }

    fn expression(&mut self) -> Result<NodeId, String> {
        let mut top = self.operand()?;
        loop {
            let op = match self.peek()? {
                Token::Binary(op) => Some(op),
                Token::Plus => Some(BinaryOp::Add),
                Token::Minus => Some(BinaryOp::Subtract),
                Token::Question => None,
                _ => return Ok(top),
            };
            self.next()?;
            let right = self.operand()?;
            let otherwise = match op {
                None if self.next()? == Token::Colon => Some(self.operand()?),
                None => return Err("missing ':'".into()),
                Some(_) => None,
            };
            let strength = op.map_or(7, |op| op.level() + 1);
            let make = |left| match (op, otherwise) {
                (Some(op), _) => Node::Binary(op, left, right),
                (None, Some(o)) => Node::Ternary(left, right, o),
                (None, None) => unreachable!("a ternary has its third operand"),
            };
            match self.nodes[top as usize] {
                Node::Binary(top_op, a, b) if strength > self.strength[top as usize] => {
                    let n = self.push(make(b), strength);
                    self.nodes[top as usize] = Node::Binary(top_op, a, n);
                }
                _ => top = self.push(make(top), strength),
            }
        }
    }
}
