//! Expression tests: values computed by hand from Netdata's documented semantics
//! (protocol.md §9.1 and the rules in `eval.rs`), parse errors, the re-printed form, limits.

use super::*;

/// The variables every table row sees unless it brings its own.
const BASE: [(&str, f64); 11] = [
    ("this", 5.0),
    ("a", 2.0),
    ("b", 3.0),
    ("zero", 0.0),
    ("n", f64::NAN),
    ("i", f64::INFINITY),
    ("ni", f64::NEG_INFINITY),
    ("a b", 7.0),
    ("x.y", 11.0),
    ("1m_rate", 4.0),
    // Never consulted: the constant wins (Netdata looks constants up first).
    ("WARNING", 99.0),
];

#[derive(Debug, PartialEq)]
enum Want {
    Value(f64),
    NaN(&'static [&'static str]),
    Inf,
}
use Want::*;

fn eval_with(source: &str, vars: &dyn Vars) -> Result<f64, EvalError> {
    match Expr::parse(source) {
        Ok(e) => e.eval(vars),
        Err(e) => panic!("{source:?} does not parse: {e}"),
    }
}

/// `None` when `source` evaluates as wanted, else the complaint.
fn check(source: &str, vars: &dyn Vars, want: &Want) -> Option<String> {
    let got = eval_with(source, vars);
    let ok = match (want, &got) {
        (Value(w), Ok(g)) => w == g || (w - g).abs() < 1e-12,
        (NaN(names), Err(EvalError::NaN { unknown })) => {
            unknown.iter().map(String::as_str).eq(names.iter().copied())
        }
        (Inf, Err(EvalError::Infinite)) => true,
        _ => false,
    };
    (!ok).then(|| format!("{source:?}: want {want:?}, got {got:?}"))
}

#[test]
fn values() {
    let table: &[(&str, Want)] = &[
        // precedence and associativity
        ("1 + 2 * 3", Value(7.0)),
        ("(1 + 2) * 3", Value(9.0)),
        ("2 * 3 + 4 * 5", Value(26.0)),
        ("10 - 4 - 3", Value(3.0)),
        ("24 / 4 / 2", Value(3.0)),
        ("10 - 2 + 3", Value(11.0)),
        ("!0 + 1", Value(2.0)),
        ("-2 * 3", Value(-6.0)),
        ("- -2", Value(2.0)),
        ("+3", Value(3.0)),
        ("-$a + 1", Value(-1.0)),
        ("1 || 0 && 0", Value(0.0)),
        ("0 && 1 || 1", Value(1.0)),
        ("1 OR 0 AND 0", Value(0.0)),
        ("0 or 1", Value(1.0)),
        ("1 And 0", Value(0.0)),
        ("1 aNd 1", Value(1.0)),
        ("1 AND(1)", Value(1.0)),
        ("$a OR$b", Value(1.0)),
        ("1 < 2 < 3", Value(1.0)),
        ("3 > 2 > 1", Value(0.0)),
        ("2 == 2 == 2", Value(0.0)),
        ("1 == 1 == 1", Value(1.0)),
        ("1 + 1 == 2", Value(1.0)),
        ("2 > 1 + 1", Value(0.0)),
        ("1 > 0 && 2 > 1", Value(1.0)),
        ("1 > 0 && 2 > 3", Value(0.0)),
        // three rising levels: applied at every depth (Netdata 1.37 would say 0 here)
        ("1 < 2 + 3 * 0", Value(1.0)),
        ("$a && $b > $a + 2", Value(0.0)),
        // = is ==
        ("1 = 1", Value(1.0)),
        ("1 = 2", Value(0.0)),
        ("$a=2", Value(1.0)),
        // NOT and !
        ("!5", Value(0.0)),
        ("NOT 0", Value(1.0)),
        ("not 1", Value(0.0)),
        ("NoT(0)", Value(1.0)),
        ("!!3", Value(1.0)),
        ("!nan", Value(1.0)),
        ("!inf", Value(0.0)),
        ("!$n", Value(1.0)),
        // comparisons
        ("2 <= 2", Value(1.0)),
        ("2 >= 3", Value(0.0)),
        ("2 != 3", Value(1.0)),
        ("0.1 + 0.2 == 0.3", Value(1.0)),
        ("1 == 1.00000001", Value(1.0)),
        ("1 == 1.000001", Value(0.0)),
        // NaN and inf in comparisons
        ("nan == nan", Value(1.0)),
        ("nan != nan", Value(0.0)),
        ("$n == nan", Value(1.0)),
        ("$n != nan", Value(0.0)),
        ("$a != nan", Value(1.0)),
        ("inf == inf", Value(1.0)),
        ("$ni == inf", Value(1.0)),
        ("nan == 0", Value(0.0)),
        ("nan == inf", Value(0.0)),
        ("inf == 1", Value(0.0)),
        ("inf != 1", Value(1.0)),
        ("nan > 1", Value(0.0)),
        ("nan < 1", Value(0.0)),
        ("nan >= nan", Value(0.0)),
        ("nan <= 1", Value(0.0)),
        ("inf > 1e300", Value(1.0)),
        ("$ni < 0", Value(1.0)),
        ("inf >= inf", Value(1.0)),
        // NaN and inf in arithmetic: NaN first, then +inf
        ("nan", NaN(&[])),
        ("inf", Inf),
        ("1 + nan", NaN(&[])),
        ("nan + inf", NaN(&[])),
        ("inf * nan", NaN(&[])),
        ("inf - inf", Inf),
        ("(inf - inf) > 0", Value(1.0)),
        ("(0 - inf) > 0", Value(1.0)),
        ("-inf > 0", Value(1.0)),
        ("-$ni > 0", Value(1.0)),
        ("$ni", Inf),
        ("+$ni < 0", Value(1.0)),
        ("(inf * 0) > 0", Value(1.0)),
        ("inf / inf", Inf),
        ("1 / 0", Inf),
        ("-1 / 0", Inf),
        ("(-1 / 0) < 0", Value(1.0)),
        ("(1 / 0) > 5", Value(1.0)),
        ("0 / 0", NaN(&[])),
        ("(0 / 0) == nan", Value(1.0)),
        ("$zero / $zero + 1", NaN(&[])),
        ("-nan", NaN(&[])),
        // truth of NaN and inf
        ("nan ? 1 : 2", Value(2.0)),
        ("inf ? 1 : 2", Value(1.0)),
        ("nan && 1", Value(0.0)),
        ("nan || 1", Value(1.0)),
        ("inf && 1", Value(1.0)),
        ("$n || 0", Value(0.0)),
        ("$i AND $ni", Value(1.0)),
        // abs()
        ("abs(-3)", Value(3.0)),
        ("abs(2 - 5) * 2", Value(6.0)),
        ("ABS($a - $b)", Value(1.0)),
        ("Abs(3)", Value(3.0)),
        ("abs(nan)", NaN(&[])),
        ("abs($ni)", Inf),
        ("abs(0 - inf) > 0", Value(1.0)),
        ("abs($nope)", NaN(&["nope"])),
        // ternary
        ("($this > 0) ? 1 : 0", Value(1.0)),
        ("1 ? 2 : 3", Value(2.0)),
        ("0 ? 2 : 3", Value(3.0)),
        ("1 ? (0 ? 1 : 2) : 3", Value(2.0)),
        ("0 ? 1 : (0 ? 2 : 3)", Value(3.0)),
        ("1 ? 0 : 1 ? 2 : 3", Value(3.0)),
        ("1 > 2 ? 3 : 4", Value(0.0)),
        ("5 > 2 ? 3 : 4", Value(1.0)),
        ("2 ? 3 : 4 + 10", Value(13.0)),
        ("!0 ? 5 : 6", Value(5.0)),
        ("-1 ? 5 : 6", Value(5.0)),
        ("1 + 0 ? 5 : 6", Value(7.0)),
        ("1 ? 2 : $nope", Value(2.0)),
        ("0 ? $nope : 2", Value(2.0)),
        ("(1 ? $nope : 2) + 1", NaN(&["nope"])),
        ("$this>(($a<$b)?(4):(6))", Value(1.0)),
        // variables, constants, unknowns
        ("$this", Value(5.0)),
        ("${this}", Value(5.0)),
        ("${a b} + 1", Value(8.0)),
        ("$x.y", Value(11.0)),
        ("${x.y} - $x.y", Value(0.0)),
        ("$1m_rate * 2", Value(8.0)),
        ("$WARNING", Value(3.0)),
        ("${WARNING}", Value(3.0)),
        ("$CRITICAL - $REMOVED", Value(6.0)),
        ("$UNDEFINED + $CLEAR + $UNINITIALIZED", Value(0.0)),
        ("$nope", NaN(&["nope"])),
        ("$nope + $a + $other + $nope", NaN(&["nope", "other"])),
        ("${no pe} * 0", NaN(&["no pe"])),
        ("$nope == nan", Value(1.0)),
        ("$nope > 1", Value(0.0)),
        ("0 && $nope", Value(0.0)),
        ("1 || $nope", Value(1.0)),
        ("$nope != nan AND $nope > 0", Value(0.0)),
        ("$n", NaN(&[])),
        // literals and spacing
        ("1.5e2", Value(150.0)),
        ("2.5E-1", Value(0.25)),
        ("1e+1", Value(10.0)),
        (".5 + .25", Value(0.75)),
        ("007", Value(7.0)),
        ("3.", Value(3.0)),
        ("\t1 +\n2 \r", Value(3.0)),
        ("1+2*3-4/2", Value(5.0)),
    ];
    let failures: Vec<String> =
        table.iter().filter_map(|(source, want)| check(source, &BASE, want)).collect();
    assert!(failures.is_empty(), "{} rows fail:\n{}", failures.len(), failures.join("\n"));
    assert!(table.len() >= 140, "{} rows", table.len());
}

#[test]
fn stock_style_thresholds_follow_status() {
    let e = "$this > (($status >= $WARNING) ? (75) : (85))";
    let at = |this: f64, status: f64| eval_with(e, &[("this", this), ("status", status)]);
    assert_eq!(at(80.0, 1.0), Ok(0.0)); // CLEAR: 80 is under the raise threshold 85
    assert_eq!(at(90.0, 1.0), Ok(1.0));
    assert_eq!(at(80.0, 3.0), Ok(1.0)); // WARNING: stays raised above 75
    assert_eq!(at(70.0, 4.0), Ok(0.0));
    let e = "$this < (($status == $CRITICAL) ? (10) : ( 5))";
    assert_eq!(eval_with(e, &[("this", 7.0), ("status", 4.0)]), Ok(1.0));
    assert_eq!(eval_with(e, &[("this", 7.0), ("status", 3.0)]), Ok(0.0));
    // `!= nan` guards as in the stock files
    let e = "(($dropped != nan AND $this > 1000) ? ($dropped * 100 / $this) : (0))";
    assert_eq!(eval_with(e, &[("dropped", 50.0), ("this", 2000.0)]), Ok(2.5));
    assert_eq!(eval_with(e, &[("dropped", f64::NAN), ("this", 2000.0)]), Ok(0.0));
    assert_eq!(eval_with(e, &[("this", 2000.0)]), Ok(0.0));
    // `? (inf)` in a calc is a failed evaluation, an UNDEFINED alarm
    let e = "($tasks >= 1) ? ($this) : (inf)";
    assert_eq!(eval_with(e, &[("tasks", 0.0), ("this", 1.0)]), Err(EvalError::Infinite));
    assert_eq!(eval_with(e, &[("tasks", 2.0), ("this", 1.0)]), Ok(1.0));
}

#[test]
fn closures_and_maps_are_vars() {
    let e = Expr::parse("$a * $b").unwrap();
    let map: HashMap<String, f64> = [("a".to_owned(), 2.0), ("b".to_owned(), 4.0)].into();
    assert_eq!(e.eval(&map), Ok(8.0));
    let closure = |name: &str| (name == "a" || name == "b").then_some(3.0);
    assert_eq!(e.eval(&closure), Ok(9.0));
    assert_eq!(e.eval(&NoVars), Err(EvalError::NaN { unknown: vec!["a".into(), "b".into()] }));
    assert_eq!(status_constant("WARNING"), Some(3.0));
    assert_eq!(status_constant("warning"), None);
}

#[test]
fn unknown_names_past_the_mask_are_all_reported() {
    // Groups of 8 keep the tree shallow: (…) + (…) + … with 70 names in all.
    let terms: Vec<String> = (0..70).map(|i| format!("$v{i} * 0")).collect();
    let groups: Vec<String> = terms.chunks(8).map(|g| format!("({})", g.join(" + "))).collect();
    let source = groups.join(" + ");
    let only_low = |name: &str| {
        let i: u32 = name[1..].parse().ok()?;
        (i < 60).then_some(1.0)
    };
    let got = eval_with(&source, &only_low);
    let want: Vec<String> = (60..70).map(|i| format!("v{i}")).collect();
    assert_eq!(got, Err(EvalError::NaN { unknown: want }));
}

#[test]
fn parse_errors() {
    let table: &[(&str, usize, &str)] = &[
        ("", 0, "expected operand"),
        ("   ", 3, "expected operand"),
        ("1 +", 3, "expected operand"),
        ("(1 + 2", 0, "missing closing parenthesis"),
        ("((1 + 2) * 3", 0, "missing closing parenthesis"),
        ("1 + 2)", 5, "remaining characters after expression"),
        ("1 <> 2", 2, "unknown operator '<>'"),
        ("1 2", 2, "expected an operator"),
        ("$a $b", 3, "expected an operator"),
        ("1 # 2", 2, "unknown operator"),
        ("1 & 2", 2, "unknown operator"),
        ("1 | 2", 2, "unknown operator"),
        ("1 ORx 2", 2, "unknown operator"),
        ("1 % 2", 2, "unknown operator"),
        ("1 ? 2", 5, "missing ':'"),
        ("1 ? 2 + 1 : 3", 6, "missing ':'"),
        ("1 : 2", 2, "':' without a '?'"),
        ("$", 0, "expected a variable name"),
        ("1 + $ x", 4, "expected a variable name"),
        ("${abc", 0, "missing '}'"),
        ("${}", 0, "expected a variable name"),
        ("NaN", 0, "unknown operand"),
        ("INF + 1", 0, "unknown operand"),
        ("abs (1)", 0, "unknown operand"),
        ("this > 1", 0, "unknown operand"),
        ("* 2", 0, "unknown operand"),
        (")", 0, "expected operand"),
        ("(1 +)", 4, "expected operand"),
        ("1 === 2", 4, "unknown operand"),
        ("nanx", 3, "unknown operator"),
        ("1 > 2 ?", 7, "expected operand"),
    ];
    for (source, pos, message) in table {
        match Expr::parse(source) {
            Ok(e) => panic!("{source:?} parsed as {}", e.parsed()),
            Err(e) => assert!(
                e.pos == *pos && e.message.contains(message),
                "{source:?}: want {message:?} at {pos}, got {e:?}"
            ),
        }
    }
}

#[test]
fn limits_refuse_instead_of_overflowing() {
    let long = format!("1{}", " ".repeat(MAX_SOURCE_LEN));
    assert!(Expr::parse(&long).unwrap_err().message.contains("longer than 4096"));
    assert!(Expr::parse(&long[..MAX_SOURCE_LEN]).is_ok());

    let deep = |open: &str, n: usize, close: &str| format!("{}1{}", open.repeat(n), close.repeat(n));
    assert!(Expr::parse(&deep("(", MAX_DEPTH - 1, ")")).is_ok());
    for source in [
        deep("(", 2000, ")"),
        deep("-", 4000, ""),
        deep("!", MAX_DEPTH + 1, ""),
        deep("abs(", 800, ")"),
        format!("{}1", "1+".repeat(2000)),
        format!("{}1", "1*".repeat(MAX_DEPTH)),
    ] {
        let err = Expr::parse(&source).unwrap_err();
        assert!(err.message.contains("nested deeper than 64"), "{err}");
    }
    assert!(Expr::parse(&format!("{}1", "1*".repeat(MAX_DEPTH - 1))).is_ok());

    let name = "n".repeat(MAX_VARIABLE_NAME_LEN);
    assert!(Expr::parse(&format!("${name}")).is_ok());
    assert!(Expr::parse(&format!("${name}x")).unwrap_err().message.contains("longer than 300"));
}

#[test]
fn parsed_is_netdatas_canonical_form() {
    let table: &[(&str, &str)] = &[
        (
            "$this > (($status >= $WARNING) ? (75) : (85))",
            "(${this} > ((${status} >= ${WARNING}) ? 75 : 85))",
        ),
        ("($this > 0) ? 1 : 0", "((${this} > 0) ? 1 : 0)"),
        ("1 + 2 * 3", "(1 + (2 * 3))"),
        ("1 - 2 - 3", "((1 - 2) - 3)"),
        ("1 AND 2 or 3", "((1 && 2) || 3)"),
        ("$a = 1", "(${a} == 1)"),
        ("!$a", "!${a}"),
        ("NOT ($a)", "!${a}"),
        ("- -1", "--1"),
        ("-(1 + 2)", "-(1 + 2)"),
        ("+$a", "+${a}"),
        ("abs($a - $b)", "abs((${a} - ${b}))"),
        ("ABS(1)", "abs(1)"),
        ("0.5 * 1.25", "(0.5 * 1.25)"),
        ("1e-9", "0"),
        ("12.3456789", "12.3456789"),
        ("12.34567891", "12.3456789"),
        ("0.00000006", "0.0000001"),
        ("100", "100"),
        ("1.5e3", "1500"),
        ("nan != inf", "(nan != inf)"),
        ("${a b} + $x.y", "(${a b} + ${x.y})"),
        ("1 > 2 ? 3 : 4", "(1 > (2 ? 3 : 4))"),
        ("2 ? 3 : 4 + 10", "((2 ? 3 : 4) + 10)"),
        ("((1))", "1"),
        ("$a && $b > $c + 1 * 2", "(${a} && (${b} > (${c} + (1 * 2))))"),
    ];
    for (source, want) in table {
        let e = Expr::parse(source).unwrap();
        assert_eq!(e.parsed(), *want, "{source:?}");
        assert_eq!(e.source(), *source);
        // The canonical form parses back to itself.
        assert_eq!(Expr::parse(want).unwrap().parsed(), *want, "{want:?}");
    }
}

#[test]
fn variables_are_listed_once_without_constants() {
    let e = Expr::parse("$this > $a + ${a b} * $this + $WARNING - ${a}").unwrap();
    assert_eq!(e.variables(), ["this", "a", "a b"]);
    assert!(Expr::parse("1 + $CRITICAL").unwrap().variables().is_empty());
}

#[test]
fn eval_error_messages() {
    let nan = EvalError::NaN { unknown: vec!["x".into(), "y z".into()] };
    assert_eq!(nan.to_string(), "[ undefined variable 'x' ] [ undefined variable 'y z' ] undefined variable");
    assert_eq!(EvalError::NaN { unknown: vec![] }.to_string(), "value is unset");
    assert_eq!(EvalError::Infinite.to_string(), "computed value is infinite");
}
