//! Group methods: how the stored points that fall in one bucket of a query become one value
//! (`average`, `min`, `max`, `sum`, `median`, `incremental_sum`, `stddev`, `cv`, `ses`,
//! `des`, `countif`, `percentileN`, `trimmed-meanN`, `trimmed-medianN`), spelled as Netdata's
//! `group=` parameter and health `lookup` methods spell them.

/// How the points of one bucket become one value.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Group {
    Average,
    Min,
    Max,
    Sum,
    Median,
    IncrementalSum,
    Stddev,
    Cv,
    Ses,
    Des,
    CountIf,
    Percentile(u8),
    TrimmedMean(u8),
    TrimmedMedian(u8),
}

impl Group {
    pub fn parse(s: &str) -> Option<Group> {
        let pct = |rest: &str, allowed: &[u8], default: u8| -> Option<u8> {
            if rest.is_empty() {
                return Some(default);
            }
            rest.parse::<u8>().ok().filter(|n| allowed.contains(n))
        };
        Some(match s {
            "average" | "mean" => Group::Average,
            "min" => Group::Min,
            "max" => Group::Max,
            "sum" => Group::Sum,
            "median" => Group::Median,
            "incremental_sum" | "incremental-sum" => Group::IncrementalSum,
            "stddev" => Group::Stddev,
            "cv" | "rsd" => Group::Cv,
            "ses" | "ema" | "ewma" => Group::Ses,
            "des" => Group::Des,
            "countif" => Group::CountIf,
            _ => {
                if let Some(r) = s.strip_prefix("percentile") {
                    Group::Percentile(pct(r, &[25, 50, 75, 80, 90, 95, 97, 98, 99], 95)?)
                } else if let Some(r) = s.strip_prefix("trimmed-mean") {
                    Group::TrimmedMean(pct(r, &[1, 2, 3, 5, 10, 15, 20, 25], 5)?)
                } else if let Some(r) = s.strip_prefix("trimmed-median") {
                    Group::TrimmedMedian(pct(r, &[1, 2, 3, 5, 10, 15, 20, 25], 5)?)
                } else {
                    return None;
                }
            }
        })
    }

    pub fn name(self) -> String {
        match self {
            Group::Average => "average".into(),
            Group::Min => "min".into(),
            Group::Max => "max".into(),
            Group::Sum => "sum".into(),
            Group::Median => "median".into(),
            Group::IncrementalSum => "incremental_sum".into(),
            Group::Stddev => "stddev".into(),
            Group::Cv => "cv".into(),
            Group::Ses => "ses".into(),
            Group::Des => "des".into(),
            Group::CountIf => "countif".into(),
            Group::Percentile(n) => format!("percentile{n}"),
            Group::TrimmedMean(n) => format!("trimmed-mean{n}"),
            Group::TrimmedMedian(n) => format!("trimmed-median{n}"),
        }
    }
}

/// Reduces one bucket's values with the group method; `None` when the bucket is empty.
pub fn reduce(group: Group, v: &mut [f64], group_options: &str) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let n = v.len() as f64;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let sort = |v: &mut [f64]| v.sort_by(|a, b| a.total_cmp(b));
    let median = |v: &[f64]| {
        let m = v.len() / 2;
        if v.len() % 2 == 0 {
            (v[m - 1] + v[m]) / 2.0
        } else {
            v[m]
        }
    };
    let trim = |v: &mut [f64], pct: u8| -> (usize, usize) {
        let cut = (v.len() * pct as usize) / 100;
        if v.len() > 2 * cut {
            (cut, v.len() - cut)
        } else {
            (0, v.len())
        }
    };
    Some(match group {
        Group::Average => mean(v),
        Group::Min => v.iter().copied().fold(f64::INFINITY, f64::min),
        Group::Max => v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Group::Sum => v.iter().sum(),
        Group::Median => {
            sort(v);
            median(v)
        }
        Group::IncrementalSum => v[v.len() - 1] - v[0],
        Group::Stddev | Group::Cv => {
            if v.len() < 2 {
                return Some(0.0);
            }
            let m = mean(v);
            let sd = (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
            if group == Group::Cv {
                if m == 0.0 {
                    return None;
                }
                sd * 100.0 / m.abs()
            } else {
                sd
            }
        }
        Group::Ses => {
            let alpha = 2.0 / (1.0 + n.min(15.0));
            v.iter().skip(1).fold(v[0], |level, x| alpha * x + (1.0 - alpha) * level)
        }
        Group::Des => {
            let alpha = 2.0 / (1.0 + n.min(15.0));
            let beta = alpha;
            let (mut level, mut trend) = (v[0], if v.len() > 1 { v[1] - v[0] } else { 0.0 });
            for x in v.iter().skip(1) {
                let last = level;
                level = alpha * x + (1.0 - alpha) * (level + trend);
                trend = beta * (level - last) + (1.0 - beta) * trend;
            }
            level + trend
        }
        Group::CountIf => {
            let (op, num) = parse_condition(group_options);
            let hits = v.iter().filter(|&&x| op.test(x, num)).count();
            hits as f64 * 100.0 / n
        }
        Group::Percentile(p) => {
            sort(v);
            let idx = ((v.len() as f64 * f64::from(p) / 100.0).ceil() as usize).clamp(1, v.len()) - 1;
            v[idx]
        }
        Group::TrimmedMean(p) => {
            sort(v);
            let (a, b) = trim(v, p);
            mean(&v[a..b])
        }
        Group::TrimmedMedian(p) => {
            sort(v);
            let (a, b) = trim(v, p);
            median(&v[a..b])
        }
    })
}

#[derive(Copy, Clone)]
enum Cmp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl Cmp {
    fn test(self, x: f64, n: f64) -> bool {
        match self {
            Cmp::Eq => x == n,
            Cmp::Ne => x != n,
            Cmp::Gt => x > n,
            Cmp::Ge => x >= n,
            Cmp::Lt => x < n,
            Cmp::Le => x <= n,
        }
    }
}

/// `countif` conditions: `[>|>=|<|<=|!|!=|=|==]number`, default `== 0`.
fn parse_condition(s: &str) -> (Cmp, f64) {
    let s = s.trim();
    let (op, rest) = if let Some(r) = s.strip_prefix(">=") {
        (Cmp::Ge, r)
    } else if let Some(r) = s.strip_prefix("<=") {
        (Cmp::Le, r)
    } else if let Some(r) = s.strip_prefix("!=").or_else(|| s.strip_prefix("<>")) {
        (Cmp::Ne, r)
    } else if let Some(r) = s.strip_prefix("==") {
        (Cmp::Eq, r)
    } else if let Some(r) = s.strip_prefix('>') {
        (Cmp::Gt, r)
    } else if let Some(r) = s.strip_prefix('<') {
        (Cmp::Lt, r)
    } else if let Some(r) = s.strip_prefix('!') {
        (Cmp::Ne, r)
    } else if let Some(r) = s.strip_prefix('=') {
        (Cmp::Eq, r)
    } else {
        (Cmp::Eq, s)
    };
    (op, rest.trim().parse().unwrap_or(0.0))
}
