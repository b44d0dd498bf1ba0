//! Every `calc`, `warn` and `crit` expression in Debian's stock `health.d` (read from the
//! installed `netdata` package, never copied) parses, evaluates without trouble, and comes
//! out as the same tree Netdata 1.37 builds for it.
//!
//! Netdata builds its tree by rotating at most one node when an operator binds tighter than
//! the one before it; [`netdata_reading`] re-expresses that rule (from its documented
//! behaviour, in our own types) so the test can show that the stock files never reach the
//! cases where it differs from full precedence climbing.

use super::eval::{print_node, status_constant_index};
use super::parse::{Lexer, Token};
use super::{BinaryOp, Expr, NoVars, Node, NodeId, UnaryOp};

const STOCK_DIR: &str = "/usr/lib/netdata/conf.d/health.d";

/// `(file, line, expression)` for every `calc:`, `warn:` and `crit:` line, or `None` when the
/// package is not installed outside CI.
fn stock_expressions() -> Option<Vec<(String, usize, String)>> {
    let dir = match std::fs::read_dir(STOCK_DIR) {
        Ok(dir) => dir,
        Err(e) if std::env::var_os("CI").is_some() => panic!(
            "{STOCK_DIR} is not readable ({e}): CI must have Debian's netdata 1.37 package \
             installed for the stock health expression test"
        ),
        Err(e) => {
            eprintln!("skipping: {STOCK_DIR} is not readable ({e}); install Debian's netdata");
            return None;
        }
    };
    let mut paths: Vec<_> = dir
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    paths.sort();
    let mut found = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut lines = text.lines().enumerate();
        while let Some((i, line)) = lines.next() {
            let mut line = line.trim().to_owned();
            while line.ends_with('\\') {
                line.pop();
                match lines.next() {
                    Some((_, more)) => line.push_str(more.trim()),
                    None => break,
                }
            }
            let Some((key, value)) = line.split_once(':') else { continue };
            if matches!(key.trim(), "calc" | "warn" | "crit") {
                found.push((path.display().to_string(), i + 1, value.trim().to_owned()));
            }
        }
    }
    Some(found)
}

#[test]
fn every_stock_expression_parses_and_evaluates() {
    let Some(all) = stock_expressions() else { return };
    // Debian's 1.37.1 files hold 284 alarms with 517 of these lines.
    assert!(all.len() >= 450, "only {} stock expressions found in {STOCK_DIR}", all.len());
    let ones = |name: &str| Some(if name == "status" { 3.0 } else { 1.0 });
    let mixed = |name: &str| Some(name.len() as f64 - 4.0);
    for (file, line, source) in &all {
        let e = Expr::parse(source).unwrap_or_else(|err| panic!("{file}:{line}: {source:?}: {err}"));
        // Each evaluation either has a value or is one of the two failures; none may panic.
        let _ = e.eval(&NoVars);
        let _ = e.eval(&ones);
        let _ = e.eval(&mixed);
        let again = Expr::parse(&e.parsed())
            .unwrap_or_else(|err| panic!("{file}:{line}: parsed form does not parse: {err}"));
        assert_eq!(again.parsed(), e.parsed(), "{file}:{line}");
    }
    eprintln!("{} stock expressions parse", all.len());
}

#[test]
fn stock_expressions_read_as_netdata_reads_them() {
    let Some(all) = stock_expressions() else { return };
    let mut checked = 0;
    for (file, line, source) in &all {
        let ours = Expr::parse(source).map(|e| e.parsed());
        let theirs = netdata_reading(source);
        assert_eq!(ours.ok(), theirs.ok(), "{file}:{line}: {source:?}");
        checked += 1;
    }
    assert!(checked >= 450);
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
