//! Health expressions (`health::expr::Expr`): parse the input and evaluate it with variables
//! whose values (finite, NaN, inf, unknown) follow from their names; when it parses, its
//! printed form (`calc_parsed`) parses again to the same print and, when no number was
//! rounded by the print (Netdata prints at most 5 decimals), to the same result.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nanodata::health::expr::{EvalError, Expr, MAX_SOURCE_LEN};

fn value(name: &str) -> Option<f64> {
    let h = name.bytes().fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    match h % 6 {
        0 => None,
        1 => Some(f64::NAN),
        2 => Some(f64::INFINITY),
        3 => Some(0.0),
        _ => Some(f64::from(h % 1000) - 500.0),
    }
}

fn same(a: &Result<f64, EvalError>, b: &Result<f64, EvalError>) -> bool {
    match (a, b) {
        (Ok(x), Ok(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Err(EvalError::Infinite), Err(EvalError::Infinite)) => true,
        (Err(EvalError::NaN { .. }), Err(EvalError::NaN { .. })) => true,
        _ => false,
    }
}

/// Whether a number in `text` has more decimals (or digits) than a print keeps.
fn rounded(text: &str) -> bool {
    let mut digits_after_dot = None;
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if let Some(d) = digits_after_dot.as_mut() {
                *d += 1;
                if *d > 5 {
                    return true;
                }
            }
            if run > 15 {
                return true;
            }
        } else if c == '.' {
            digits_after_dot = Some(0);
        } else {
            digits_after_dot = None;
            run = 0;
        }
        if c == 'e' || c == 'E' {
            return true;
        }
    }
    false
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Ok(e) = Expr::parse(&text) else { return };
    let vars = |n: &str| value(n);
    let r = e.eval(&vars);
    let _ = e.variables();
    let printed = e.parsed();
    // The print adds parentheses and digits: it may be over the source limit.
    if printed.len() > MAX_SOURCE_LEN {
        return;
    }
    let again = Expr::parse(&printed).unwrap_or_else(|err| panic!("{printed:?} does not parse again: {err}"));
    assert_eq!(again.parsed(), printed, "printing is stable");
    if !rounded(&text) {
        let r2 = again.eval(&vars);
        assert!(same(&r, &r2), "{text:?} gave {r:?}, its print {printed:?} gave {r2:?}");
    }
});
