//! What a static file is sent as: its content type (from the name's extension, Netdata's
//! list and the usual web types), whether gzip helps it, and HTTP dates (`Last-Modified`,
//! `If-Modified-Since`, RFC 9110 IMF-fixdate) without a date library.

/// A file's content type and whether compressing it pays.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Kind {
    pub content_type: &'static str,
    pub compressible: bool,
}

/// The kind of a file named `name` (by its last extension, case-insensitive);
/// `application/octet-stream` when unknown, as Netdata answers.
pub fn kind(name: &str) -> Kind {
    let ext = match name.rsplit_once('.') {
        Some((_, e)) if !e.contains('/') => e.to_ascii_lowercase(),
        _ => String::new(),
    };
    let (content_type, compressible) = match ext.as_str() {
        "html" | "htm" => ("text/html; charset=utf-8", true),
        "css" => ("text/css; charset=utf-8", true),
        "js" | "mjs" => ("application/javascript; charset=utf-8", true),
        "json" | "map" => ("application/json; charset=utf-8", true),
        "txt" => ("text/plain; charset=utf-8", true),
        "xml" => ("text/xml; charset=utf-8", true),
        "yaml" | "yml" => ("application/yaml; charset=utf-8", true),
        "svg" => ("image/svg+xml", true),
        "ico" => ("image/vnd.microsoft.icon", true),
        "png" => ("image/png", false),
        "jpg" | "jpeg" => ("image/jpeg", false),
        "gif" => ("image/gif", false),
        "webp" => ("image/webp", false),
        "woff" => ("font/woff", false),
        "woff2" => ("font/woff2", false),
        "ttf" => ("font/ttf", true),
        "otf" => ("font/otf", true),
        "eot" => ("application/vnd.ms-fontobject", true),
        "wasm" => ("application/wasm", true),
        "pdf" => ("application/pdf", false),
        _ => ("application/octet-stream", false),
    };
    Kind { content_type, compressible }
}

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `secs` since the epoch as an IMF-fixdate: `Tue, 17 Jan 2023 17:56:13 GMT`.
pub fn http_date(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// The seconds since the epoch of an IMF-fixdate (what browsers send back from
/// `Last-Modified`); `None` for anything else (the obsolete RFC 850 and asctime forms
/// included: the request is then answered in full).
pub fn parse_http_date(s: &str) -> Option<i64> {
    let mut it = s.trim().split(' ');
    let (_wday, day, mon, year, time, gmt) =
        (it.next()?, it.next()?, it.next()?, it.next()?, it.next()?, it.next()?);
    if it.next().is_some() || gmt != "GMT" || day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    let num =
        |t: &str| -> Option<i64> { t.bytes().all(|b| b.is_ascii_digit()).then(|| t.parse().ok()).flatten() };
    let d = num(day)?;
    let m = MONTHS.iter().position(|&x| x == mon)? as i64 + 1;
    let y = num(year)?;
    let mut hms = time.split(':');
    let (h, mi, se) = (num(hms.next()?)?, num(hms.next()?)?, num(hms.next()?)?);
    if !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of `days` since 1970-01-01: (year, month 1–12, day 1–31).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        // The mtime Netdata's own server sent for Debian's index.html (its Date header).
        assert_eq!(http_date(1_673_978_173), "Tue, 17 Jan 2023 17:56:13 GMT");
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        // 2000-02-29 is a leap day (divisible by 400); 951782400 = 2000-02-29T00:00:00Z.
        assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(parse_http_date("Tue, 17 Jan 2023 17:56:13 GMT"), Some(1_673_978_173));
        assert_eq!(parse_http_date("Tue, 29 Feb 2000 00:00:00 GMT"), Some(951_782_400));
        for secs in [1, 86_399, 86_400, 1_000_000_000, 4_102_444_800] {
            assert_eq!(parse_http_date(&http_date(secs)), Some(secs));
        }
    }

    #[test]
    fn other_date_forms_are_not_taken() {
        for bad in [
            "",
            "Tuesday, 17-Jan-23 17:56:13 GMT",
            "Tue Jan 17 17:56:13 2023",
            "Tue, 17 Jan 2023 17:56:13 UTC",
            "Tue, 17 Foo 2023 17:56:13 GMT",
            "Tue, 7 Jan 2023 17:56:13 GMT",
            "Tue, 17 Jan 2023 25:56:13 GMT",
            "Tue, +1 Jan 2023 17:56:13 GMT",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn kinds() {
        assert_eq!(kind("index.html").content_type, "text/html; charset=utf-8");
        assert_eq!(kind("lib/jquery-3.6.0.min.js").content_type, "application/javascript; charset=utf-8");
        assert_eq!(kind("x.CSS").content_type, "text/css; charset=utf-8");
        assert!(kind("a.woff2").content_type == "font/woff2" && !kind("a.woff2").compressible);
        assert_eq!(kind("README").content_type, "application/octet-stream");
        assert_eq!(kind(".well-known/dnt/cookies").content_type, "application/octet-stream");
        assert_eq!(kind("dir.d/file").content_type, "application/octet-stream");
    }
}
