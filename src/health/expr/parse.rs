//! Expression text → node arena: a lexer that reads one token on demand and a
//! precedence-climbing parser over the table in the parent module. Every limit
//! ([`MAX_SOURCE_LEN`], [`MAX_DEPTH`], [`MAX_VARIABLE_NAME_LEN`]) is checked here, so the
//! evaluator can recurse freely over what this produces.

use super::eval::status_constant_index;
use super::{BinaryOp, Node, NodeId, ParseError, UnaryOp, MAX_DEPTH, MAX_SOURCE_LEN, MAX_VARIABLE_NAME_LEN};

/// Parse `source` into nodes (root last) and the names it looks up.
pub(super) fn parse(source: &str) -> Result<(Vec<Node>, Vec<String>), ParseError> {
    if source.len() > MAX_SOURCE_LEN {
        return Err(error(
            MAX_SOURCE_LEN,
            format!("expression longer than {MAX_SOURCE_LEN} bytes ({} bytes)", source.len()),
        ));
    }
    let mut parser = Parser {
        lexer: Lexer::new(source),
        peeked: None,
        nodes: Vec::new(),
        depths: Vec::new(),
        names: Vec::new(),
        nesting: 0,
    };
    parser.expression(1)?;
    match parser.next()? {
        (_, Token::End) => {}
        (pos, Token::Close) => {
            return Err(error(pos, "remaining characters after expression (unbalanced ')')"))
        }
        (pos, token) => return Err(operator_error(pos, token)),
    }
    let Parser { mut nodes, names, .. } = parser;
    nodes.shrink_to_fit();
    Ok((nodes, names))
}

/// One token. `+` and `-` are binary or prefix depending on where the parser meets them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Token<'a> {
    Number(f64),
    /// A `$name` or `${name}`, without `$` and braces.
    Variable(&'a str),
    Open,
    Close,
    /// `!` or `NOT`
    Not,
    Plus,
    Minus,
    /// `abs` just before a `(` (the parenthesis is the next token).
    Abs,
    /// Binary operators other than `+` and `-`.
    Binary(BinaryOp),
    Question,
    Colon,
    /// `<>`: SQL's "not equal", which Netdata does not accept.
    LessGreater,
    /// A character that starts no token.
    Unknown,
    End,
}

/// Reads tokens from the source on demand.
pub(super) struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub(super) fn new(src: &'a str) -> Self {
        Lexer { src, pos: 0 }
    }

    /// The next token and the byte offset where it starts.
    pub(super) fn next_token(&mut self) -> Result<(usize, Token<'a>), ParseError> {
        let bytes = self.src.as_bytes();
        while bytes.get(self.pos).is_some_and(|&c| is_space(c)) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = bytes.get(start) else {
            return Ok((start, Token::End));
        };
        let next = bytes.get(start + 1).copied();
        let (token, len) = match c {
            b'(' => (Token::Open, 1),
            b')' => (Token::Close, 1),
            b'?' => (Token::Question, 1),
            b':' => (Token::Colon, 1),
            b'+' => (Token::Plus, 1),
            b'-' => (Token::Minus, 1),
            b'*' => (Token::Binary(BinaryOp::Multiply), 1),
            b'/' => (Token::Binary(BinaryOp::Divide), 1),
            b'!' if next == Some(b'=') => (Token::Binary(BinaryOp::NotEqual), 2),
            b'!' => (Token::Not, 1),
            b'=' if next == Some(b'=') => (Token::Binary(BinaryOp::Equal), 2),
            b'=' => (Token::Binary(BinaryOp::Equal), 1),
            b'<' if next == Some(b'=') => (Token::Binary(BinaryOp::LessOrEqual), 2),
            b'<' if next == Some(b'>') => (Token::LessGreater, 2),
            b'<' => (Token::Binary(BinaryOp::Less), 1),
            b'>' if next == Some(b'=') => (Token::Binary(BinaryOp::GreaterOrEqual), 2),
            b'>' => (Token::Binary(BinaryOp::Greater), 1),
            b'&' if next == Some(b'&') => (Token::Binary(BinaryOp::And), 2),
            b'|' if next == Some(b'|') => (Token::Binary(BinaryOp::Or), 2),
            b'$' => return self.variable(start),
            b'0'..=b'9' => return self.number(start),
            b'.' if next.is_some_and(|d| d.is_ascii_digit()) => return self.number(start),
            c if c.is_ascii_alphabetic() => self.word(start),
            _ => (Token::Unknown, 0),
        };
        self.pos += len;
        Ok((start, token))
    }

    /// `AND`, `OR`, `NOT` (any case, followed by what may follow an operator word, as in
    /// Netdata), `abs(` (any case), and the literals `nan` and `inf` (lowercase only).
    fn word(&self, start: usize) -> (Token<'a>, usize) {
        let rest = &self.src.as_bytes()[start..];
        let keyword = |word: &[u8]| {
            rest.len() >= word.len()
                && rest[..word.len()].eq_ignore_ascii_case(word)
                && rest.get(word.len()).is_none_or(|&c| ends_operator_word(c))
        };
        if keyword(b"and") {
            (Token::Binary(BinaryOp::And), 3)
        } else if keyword(b"or") {
            (Token::Binary(BinaryOp::Or), 2)
        } else if keyword(b"not") {
            (Token::Not, 3)
        } else if rest.len() >= 4 && rest[..3].eq_ignore_ascii_case(b"abs") && rest[3] == b'(' {
            (Token::Abs, 3)
        } else if rest.starts_with(b"nan") {
            (Token::Number(f64::NAN), 3)
        } else if rest.starts_with(b"inf") {
            (Token::Number(f64::INFINITY), 3)
        } else {
            (Token::Unknown, 0)
        }
    }

    /// Decimal digits, an optional fraction and an optional exponent (`12`, `0.5`, `.5`,
    /// `1e3`, `2.5E-2`). Signs are prefix operators, not part of the literal.
    fn number(&mut self, start: usize) -> Result<(usize, Token<'a>), ParseError> {
        let bytes = self.src.as_bytes();
        let digits = |mut i: usize| {
            while bytes.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut end = digits(start);
        if bytes.get(end) == Some(&b'.') {
            end = digits(end + 1);
        }
        if matches!(bytes.get(end), Some(b'e' | b'E')) {
            let mut i = end + 1;
            if matches!(bytes.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if bytes.get(i).is_some_and(u8::is_ascii_digit) {
                end = digits(i);
            }
        }
        let text = &self.src[start..end];
        let value = text.parse::<f64>().map_err(|_| error(start, format!("invalid number '{text}'")))?;
        self.pos = end;
        Ok((start, Token::Number(value)))
    }

    /// `$name` (ASCII letters, digits, `.`, `_`) or `${anything but a closing brace}`.
    fn variable(&mut self, start: usize) -> Result<(usize, Token<'a>), ParseError> {
        let bytes = self.src.as_bytes();
        let (name_start, name_end, end) = if bytes.get(start + 1) == Some(&b'{') {
            let from = start + 2;
            let Some(len) = bytes[from..].iter().position(|&c| c == b'}') else {
                return Err(error(start, "missing '}' after variable name"));
            };
            (from, from + len, from + len + 1)
        } else {
            let from = start + 1;
            let len = bytes[from..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'.' || c == b'_'))
                .unwrap_or(bytes.len() - from);
            (from, from + len, from + len)
        };
        if name_end == name_start {
            return Err(error(start, "expected a variable name after '$'"));
        }
        if name_end - name_start > MAX_VARIABLE_NAME_LEN {
            return Err(error(start, format!("variable name longer than {MAX_VARIABLE_NAME_LEN} bytes")));
        }
        self.pos = end;
        Ok((start, Token::Variable(&self.src[name_start..name_end])))
    }
}

/// C's `isspace` in the C locale (Netdata skips these between tokens).
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// What may follow `AND`, `OR` or `NOT` for it to be the operator (Netdata's rule): so
/// `$a ORx` is an error and `$a OR $b`, `NOT(…)`, `$a AND-1` are operators.
fn ends_operator_word(c: u8) -> bool {
    is_space(c) || matches!(c, b'(' | b'$' | b'!' | b'-' | b'+') || c.is_ascii_digit()
}

fn error(pos: usize, message: impl Into<String>) -> ParseError {
    ParseError { pos, message: message.into() }
}

/// The error for `token` found where an operator (or the end) should be.
fn operator_error(pos: usize, token: Token<'_>) -> ParseError {
    match token {
        Token::LessGreater => error(pos, "unknown operator '<>' (use '!=')"),
        Token::Unknown => error(pos, "unknown operator"),
        Token::Colon => error(pos, "':' without a '?' before it"),
        Token::End => error(pos, "unexpected end of expression"),
        _ => error(pos, "expected an operator"),
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    peeked: Option<(usize, Token<'a>)>,
    nodes: Vec<Node>,
    /// Depth of the subtree under each node (1 for a leaf), to enforce [`MAX_DEPTH`].
    depths: Vec<u16>,
    names: Vec<String>,
    /// Parentheses and prefix operators currently open.
    nesting: usize,
}

impl<'a> Parser<'a> {
    fn peek(&mut self) -> Result<(usize, Token<'a>), ParseError> {
        if let Some(t) = self.peeked {
            return Ok(t);
        }
        let t = self.lexer.next_token()?;
        self.peeked = Some(t);
        Ok(t)
    }

    fn next(&mut self) -> Result<(usize, Token<'a>), ParseError> {
        let t = self.peek()?;
        self.peeked = None;
        Ok(t)
    }

    /// Binary operators of `min_level` or tighter, left associative, over ternary operands.
    fn expression(&mut self, min_level: u8) -> Result<NodeId, ParseError> {
        let mut left = self.ternary()?;
        loop {
            let (pos, token) = self.peek()?;
            let op = match token {
                Token::Binary(op) => op,
                Token::Plus => BinaryOp::Add,
                Token::Minus => BinaryOp::Subtract,
                _ => break,
            };
            if op.level() < min_level {
                break;
            }
            self.next()?;
            let right = self.expression(op.level() + 1)?;
            left = self.push(pos, Node::Binary(op, left, right))?;
        }
        Ok(left)
    }

    /// `operand (? operand : operand)*`: Netdata's ternary binds tighter than any binary
    /// operator, with single operands as condition and branches.
    fn ternary(&mut self) -> Result<NodeId, ParseError> {
        let mut condition = self.operand()?;
        while let (pos, Token::Question) = self.peek()? {
            self.next()?;
            let then = self.operand()?;
            match self.next()? {
                (_, Token::Colon) => {}
                (at, _) => {
                    return Err(error(
                        at,
                        "missing ':' of inline conditional (each branch is one operand: \
                         use parentheses)",
                    ))
                }
            }
            let otherwise = self.operand()?;
            condition = self.push(pos, Node::Ternary(condition, then, otherwise))?;
        }
        Ok(condition)
    }

    /// A literal, a variable, a parenthesised expression, or a prefix operator and its
    /// operand.
    fn operand(&mut self) -> Result<NodeId, ParseError> {
        let (pos, token) = self.next()?;
        self.nesting += 1;
        if self.nesting > MAX_DEPTH {
            return Err(error(pos, format!("expression nested deeper than {MAX_DEPTH} levels")));
        }
        let id = match token {
            Token::Number(n) => self.push(pos, Node::Number(n))?,
            Token::Variable(name) => {
                let node = match status_constant_index(name) {
                    Some(i) => Node::Constant(i),
                    None => Node::Variable(self.intern(name)),
                };
                self.push(pos, node)?
            }
            Token::Open => self.parenthesised(pos)?,
            Token::Not => self.prefix(pos, UnaryOp::Not)?,
            Token::Minus => self.prefix(pos, UnaryOp::Minus)?,
            Token::Plus => self.prefix(pos, UnaryOp::Plus)?,
            Token::Abs => {
                // The lexer only yields Abs right before '('.
                let (open, _) = self.next()?;
                let inner = self.parenthesised(open)?;
                self.push(pos, Node::Unary(UnaryOp::Abs, inner))?
            }
            Token::End | Token::Close => return Err(error(pos, "expected operand")),
            _ => return Err(error(pos, "unknown operand")),
        };
        self.nesting -= 1;
        Ok(id)
    }

    fn prefix(&mut self, pos: usize, op: UnaryOp) -> Result<NodeId, ParseError> {
        let operand = self.operand()?;
        self.push(pos, Node::Unary(op, operand))
    }

    /// The rest of `( expression )` after the opening parenthesis at `open`.
    fn parenthesised(&mut self, open: usize) -> Result<NodeId, ParseError> {
        let inner = self.expression(1)?;
        match self.next()? {
            (_, Token::Close) => Ok(inner),
            (_, Token::End) => Err(error(open, "missing closing parenthesis")),
            (pos, token) => Err(operator_error(pos, token)),
        }
    }

    fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return i as u32;
        }
        self.names.push(name.to_owned());
        (self.names.len() - 1) as u32
    }

    /// Append `node`, refusing a tree deeper than [`MAX_DEPTH`].
    fn push(&mut self, pos: usize, node: Node) -> Result<NodeId, ParseError> {
        let depth_of = |id: NodeId| self.depths[id as usize];
        let depth = 1 + match node {
            Node::Number(_) | Node::Constant(_) | Node::Variable(_) => 0,
            Node::Unary(_, a) => depth_of(a),
            Node::Binary(_, a, b) => depth_of(a).max(depth_of(b)),
            Node::Ternary(c, a, b) => depth_of(c).max(depth_of(a)).max(depth_of(b)),
        };
        if usize::from(depth) > MAX_DEPTH {
            return Err(error(pos, format!("expression nested deeper than {MAX_DEPTH} levels")));
        }
        self.nodes.push(node);
        self.depths.push(depth);
        Ok((self.nodes.len() - 1) as NodeId)
    }
}
