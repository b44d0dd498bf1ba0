//! Badges: the value texts, colours and layout against values worked out by hand from Netdata
//! 1.37's documented behaviour (and, where noted, what a running 1.37.1 answered). Whole
//! answers are in `tests_answers.rs`.

use super::color::{parse_entry, pick, resolve, Op};
use super::svg::{baseline, box_widths, render, xml_escape};
use super::*;

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn numbers_get_decimals_by_their_size_and_lose_trailing_zeros() {
    let cases: &[(f64, &str)] = &[
        (100.0, "100"),
        (69.268, "69.3"),
        (33.333, "33.3"),
        (12.5, "12.5"),
        (8.0, "8"),
        (3.3333, "3.33"),
        (0.3333, "0.33"),
        (0.1, "0.1"),
        (0.03333, "0.0333"),
        (0.003333, "0.00333"),
        (0.0003333, "0.000333"),
        (0.0001, "0.0001"),
        (0.00003333, "0.0000333"),
        (1e-16, "0"),
        (-1e-16, "-0"),
        (-0.1, "-0.1"),
        (-12.5, "-12.5"),
        // 999.99 is under 1000: one decimal, "1000.0", trimmed.
        (999.99, "1000"),
        // From 1000 on no decimals, and the zeros of a whole number stay.
        (1000.0, "1000"),
        (24105.4, "24105"),
        (69268.0, "69268"),
    ];
    for &(v, want) in cases {
        assert_eq!(auto_number(v), want, "{v}");
    }
}

#[test]
fn units_follow_the_number_percent_without_a_space() {
    assert_eq!(value_text(69.268, "%", None), "69.3%");
    assert_eq!(value_text(24105.4, "MiB", None), "24105 MiB");
    assert_eq!(value_text(9.03, "load", None), "9.03 load");
    assert_eq!(value_text(69.268, "%", Some(3)), "69.268%");
    assert_eq!(value_text(69.268, "%", Some(0)), "69%");
    assert_eq!(value_text(30.1, "load", Some(4)), "30.1000 load");
    assert_eq!(value_text(1.0, "%", Some(60)), format!("1.{}%", "0".repeat(50)), "at most 50 decimals");
    assert_eq!(value_text(0.0, "", None), "0");
    assert_eq!(value_text(100.0, "empty", Some(2)), "100.00");
    assert_eq!(value_text(100.0, "null", None), "100");
    for p in ["percentage", "percent", "pcent"] {
        assert_eq!(value_text(100.0, p, None), "100%");
    }
    assert_eq!(value_text(100.0, "pcent", Some(2)), "100.00%");
    for nan in [f64::NAN, f64::INFINITY] {
        assert_eq!(value_text(nan, "%", None), "-");
        assert_eq!(value_text(nan, "", Some(2)), "-");
    }
}

#[test]
fn durations_read_as_clocks_days_and_now() {
    let s = |v: f64| value_text(v, "seconds", None);
    // 93784 s = 1 day, 2 h, 3 min, 4 s.
    assert_eq!(s(93_784.0), "1 day 02:03:04");
    assert_eq!(s(172_800.0), "2 days 00:00:00");
    assert_eq!(s(86_400.0), "1 day 00:00:00");
    assert_eq!(s(3784.0), "01:03:04");
    assert_eq!(s(59.9), "00:00:59", "fractions are dropped");
    assert_eq!(s(0.005), "00:00:00", "only exactly zero is now");
    assert_eq!(s(0.0), "now");
    assert_eq!(s(f64::NAN), "undefined");
    assert_eq!(value_text(93_784.0, "seconds ago", None), "1 day 02:03:04 ago");
    // −5990 as an unsigned 64-bit count: 2^64 − 5990 = 213503982334601 days and
    // 2^64 mod 86400 (25216) − 5990 = 19226 s = 05:20:26.
    assert_eq!(s(-5990.0), "213503982334601 days 05:20:26");

    let m = |v: f64| value_text(v, "minutes", None);
    assert_eq!(m(1500.0), "1d 01h 00m");
    assert_eq!(m(2880.0), "2d 00h 00m");
    assert_eq!(m(61.0), "1h 1m");
    assert_eq!(m(59.9), "0h 59m");
    assert_eq!(m(0.0), "now");
    assert_eq!(value_text(15.0, "minutes ago", None), "0h 15m ago");

    let h = |v: f64| value_text(v, "hours", None);
    assert_eq!(h(50.0), "2d 2h");
    assert_eq!(h(48.0), "2d 0h");
    assert_eq!(h(5.0), "5h");
    assert_eq!(h(59.9), "2d 11h");
    assert_eq!(h(0.05), "0h");
    // 2^64 − 5 hours: 768614336404564650 days and (2^64 mod 24 = 16) − 5 = 11 h.
    assert_eq!(h(-5.0), "768614336404564650d 11h");
    assert_eq!(value_text(50.0, "hours ago", None), "2d 2h ago");
    assert_eq!(value_text(f64::NAN, "hours", Some(2)), "undefined", "precision does not apply");
}

#[test]
fn two_state_units_name_zero_and_anything_else() {
    for (units, yes, no) in [
        ("on/off", "on", "off"),
        ("on-off", "on", "off"),
        ("onoff", "on", "off"),
        ("up/down", "up", "down"),
        ("updown", "up", "down"),
        ("ok/error", "ok", "error"),
        ("ok-error", "ok", "error"),
        ("ok/failed", "ok", "failed"),
        ("okfailed", "ok", "failed"),
    ] {
        assert_eq!(value_text(0.0, units, None), no, "{units}");
        assert_eq!(value_text(100.0, units, None), yes, "{units}");
        assert_eq!(value_text(-1.0, units, None), yes, "{units}");
        assert_eq!(value_text(f64::NAN, units, None), yes, "{units}: NaN is not zero");
    }
}

#[test]
fn colours_are_names_or_bare_hex_and_anything_else_is_the_fallback() {
    assert_eq!(resolve("green", "555"), "#97CA00");
    assert_eq!(resolve("brightgreen", "555"), "#4c1");
    assert_eq!(resolve("yellow", "555"), "#dfb317");
    assert_eq!(resolve("yellowgreen", "555"), "#a4a61d");
    assert_eq!(resolve("orange", "555"), "#fe7d37");
    assert_eq!(resolve("red", "555"), "#e05d44");
    assert_eq!(resolve("blue", "555"), "#007ec6");
    assert_eq!(resolve("gray", "fff"), "#555");
    assert_eq!(resolve("lightgray", "555"), "#9f9f9f");
    assert_eq!(resolve("ff0000", "555"), "#ff0000");
    assert_eq!(resolve("FFF", "555"), "#FFF");
    assert_eq!(resolve("ABCDEF", "555"), "#ABCDEF");
    for bad in ["#ff0000", "abc12", "abcd", "abcdef12", "abcdeg", "rgb(1,2,3)", "Red", "black", ""] {
        assert_eq!(resolve(bad, "555"), "#555", "{bad}");
        assert_eq!(resolve(bad, "fff"), "#fff", "{bad}");
    }
}

#[test]
fn conditional_value_colours_pick_the_first_entry_that_holds() {
    let spec = "red<10|yellow<50|green";
    assert_eq!(pick(spec, 5.0), "red");
    assert_eq!(pick(spec, 20.0), "yellow");
    assert_eq!(pick(spec, 69.3), "green", "an entry without a condition always holds");
    assert_eq!(pick("red>1|green", 69.3), "red");
    assert_eq!(pick("green<1|red", 69.3), "red");
    // Every operator at the boundary 0.
    assert_eq!(pick("red:0|green", 0.0), "red");
    assert_eq!(pick("red=0|green", 0.0), "red");
    assert_eq!(pick("red!=0|green", 0.0), "green");
    assert_eq!(pick("red!0|green", 1.0), "red");
    assert_eq!(pick("red<=0|green", 0.0), "red");
    assert_eq!(pick("red>=0|green", 0.0), "red");
    assert_eq!(pick("red(0|green", 0.0), "green", "( is <");
    assert_eq!(pick("red)0|green", 0.0), "green", ") is >");
    assert_eq!(pick("red{1|green", 0.0), "red", "{{ is <");
    assert_eq!(pick("red}-1|green", 0.0), "red", "}} is >");
    // Bounds are whole numbers: 1.9 reads as 1.
    assert_eq!(pick("blue>1.9|red", 1.28), "blue");
    assert_eq!(pick("blue>-1.9|red", -0.06), "blue");
    // No value: equal only to no value (`null` or nothing), under any operator.
    assert_eq!(pick("red:null|green", f64::NAN), "red");
    assert_eq!(pick("red:|green", f64::NAN), "red");
    assert_eq!(pick("red<null|green", f64::NAN), "red");
    assert_eq!(pick("red<5|green", f64::NAN), "green");
    assert_eq!(pick("red:null|green", 0.0), "green");
    // Nothing holds: the last entry read.
    assert_eq!(pick("red<5|blue>3", f64::NAN), "blue");
    assert_eq!(pick("red<5|blue>300", 100.0), "blue");
    assert_eq!(pick("red<5|blue>300|", 100.0), "blue", "a trailing | adds no entry");
    assert_eq!(pick("red<5|blue>300|orange", 100.0), "orange");
    // An entry with no colour stands for the whole text (which is then no colour).
    assert_eq!(pick("<5", 100.0), "<5");
    assert_eq!(pick("|orange", 100.0), "|orange");
    assert_eq!(pick("red<5||blue", 100.0), "red<5||blue");
    assert_eq!(pick("yellow", f64::NAN), "yellow");
}

#[test]
fn entries_split_into_colour_operator_and_bound() {
    assert_eq!(parse_entry("red"), ("red", None));
    let (c, t) = parse_entry("ff0000>=25");
    assert_eq!((c, t.map(|t| t.0)), ("ff0000", Some(Op::Ge)));
    assert!(close(t.unwrap().1, 25.0));
    let (c, t) = parse_entry("blue!=-3");
    assert_eq!((c, t.map(|t| t.0)), ("blue", Some(Op::Ne)));
    assert!(close(t.unwrap().1, -3.0));
    assert!(parse_entry("grey:null").1.unwrap().1.is_nan());
    assert!(close(parse_entry("grey<abc").1.unwrap().1, 0.0), "no digits reads as 0");
}

#[test]
fn numbers_read_like_strtol() {
    assert_eq!(leading_integer("12abc"), 12);
    assert_eq!(leading_integer("-1.9"), -1);
    assert_eq!(leading_integer(" +7"), 7);
    assert_eq!(leading_integer("abc"), 0);
    assert_eq!(leading_integer(""), 0);
    assert_eq!(leading_integer("99999999999999999999999"), i64::MAX);
}

#[test]
fn text_widths_follow_verdana_11px() {
    // s y s t e m . c p u: 5.73 6.51 5.73 4.33 6.55 10.7 4.0 5.73 6.85 6.96 = 63.09,
    // + 10 × 0.2 kerning − 0.2 + 1 = 65.89 (Netdata's own table: 65.90).
    assert!(close(text_width("system.cpu"), 65.89), "{}", text_width("system.cpu"));
    // 5 9 %: 6.99 + 6.99 + 11.84 + 0.6 − 0.2 + 1 = 27.22 (a 35.22 px box, as Netdata's).
    assert!(close(text_width("59%"), 27.22));
    assert!(close(text_width("-"), 6.0));
    // Beyond ASCII: one em (11 px) each, no kerning.
    assert!(close(text_width("é"), 11.8));
    assert!(close(text_width("😀"), 11.8));
    // h é l l o €: 6.96 + 0.2 + 11 + 2 × (3.02 + 0.2) + 6.68 + 0.2 + 11 − 0.2 + 1 = 43.28.
    assert!(close(text_width("héllo€"), 43.28));
    assert!(close(text_width(""), 0.8));
    assert!(
        close(text_width("a\u{1}b"), 6.61 + 0.2 + 6.85 + 0.2 - 0.2 + 1.0),
        "control characters count nothing"
    );
}

fn sample(label: &str, value: &str) -> Badge {
    Badge {
        label: label.into(),
        value: value.into(),
        label_color: "#555".into(),
        value_color: "#999".into(),
        label_text_color: "#fff".into(),
        value_text_color: "#fff".into(),
        scale: 100,
        fixed_widths: None,
    }
}

/// What Netdata 1.37.1 answered for `badge.svg?chart=nonexist`, up to its script.
const NETDATA_CHART_NOT_FOUND: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" width=\"111.15\" height=\"20.00\"><linearGradient id=\"smooth\" x2=\"0\" y2=\"100%\"><stop offset=\"0\" stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/></linearGradient><mask id=\"round\"><rect class=\"bdge-ttl-width\" width=\"111.15\" height=\"20.00\" rx=\"3.00\" fill=\"#fff\"/></mask><g mask=\"url(#round)\"><rect class=\"bdge-rect-lbl\" width=\"97.15\" height=\"20.00\" fill=\"#555\"/><rect class=\"bdge-rect-val\" x=\"97.15\" width=\"14.00\" height=\"20.00\" fill=\"#999\"/><rect class=\"bdge-ttl-width\" width=\"111.15\" height=\"20.00\" fill=\"url(#smooth)\"/></g><g text-anchor=\"middle\" font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" font-size=\"11.00\"><text class=\"bdge-lbl-lbl\" x=\"48.58\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" clip-path=\"url(#lbl-rect)\">chart not found</text><text class=\"bdge-lbl-lbl\" x=\"48.58\" y=\"14\" fill=\"#fff\" clip-path=\"url(#lbl-rect)\">chart not found</text><text class=\"bdge-lbl-val\" x=\"103.15\" y=\"15\" fill=\"#010101\" fill-opacity=\".3\" clip-path=\"url(#val-rect)\">-</text><text class=\"bdge-lbl-val\" x=\"103.15\" y=\"14\" fill=\"#fff\" clip-path=\"url(#val-rect)\">-</text></g><script";

/// `svg` split into its text between numbers and its numbers.
fn numbers_and_text(svg: &str) -> (String, Vec<f64>) {
    let (mut text, mut nums, mut cur) = (String::new(), Vec::new(), String::new());
    for c in svg.chars() {
        if c.is_ascii_digit() || (c == '.' && !cur.is_empty()) {
            cur.push(c);
        } else {
            if !cur.is_empty() {
                nums.push(cur.parse::<f64>().unwrap());
                cur.clear();
                text.push('#');
            }
            text.push(c);
        }
    }
    (text, nums)
}

#[test]
fn the_layout_is_netdatas() {
    let svg = render(&sample("chart not found", "-"));
    let ours = numbers_and_text(&svg[..NETDATA_CHART_NOT_FOUND.len()]);
    let theirs = numbers_and_text(NETDATA_CHART_NOT_FOUND);
    assert_eq!(ours.0, theirs.0, "the same elements and attributes");
    for (a, b) in ours.1.iter().zip(&theirs.1) {
        // Netdata's width table and this one (from the font) differ by hundredths.
        assert!((a - b).abs() <= 0.011, "{a} against Netdata's {b}:\n{svg}");
    }
    assert!(svg.ends_with("</script></svg>"), "{svg}");
    // The boxes: text + 2 × 4 px. Label x is the label box's middle; the value's is one
    // pixel left of its box's middle (Netdata's).
    let (lw, vw) = box_widths(&sample("59%", "59%"));
    assert!(close(lw, 35.22) && close(vw, 35.22));
}

/// The XML rules a browser's parser enforces that a badge could break: outside CDATA
/// sections every `&` starts an entity and every `<` a tag; tags balance.
fn assert_xml(svg: &str) {
    let mut rest = svg.to_owned();
    while let Some(at) = rest.find("<![CDATA[") {
        let end = rest[at..].find("]]>").map(|e| at + e + 3).unwrap_or_else(|| panic!("open CDATA: {svg}"));
        rest.replace_range(at..end, "");
    }
    for (i, _) in rest.match_indices('&') {
        let tail = &rest[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;"].iter().any(|e| tail.starts_with(e)),
            "a bare & at {:?}",
            &tail[..tail.len().min(20)]
        );
    }
    let mut open: Vec<String> = Vec::new();
    for (i, _) in rest.match_indices('<') {
        let tag = &rest[i + 1..i + rest[i..].find('>').expect("unclosed tag")];
        assert!(tag.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/'), "a bare < at {:?}", tag);
        let name = tag.trim_start_matches('/').split(|c: char| c.is_whitespace()).next().unwrap().to_owned();
        if tag.starts_with('/') {
            assert_eq!(open.pop().as_deref(), Some(name.as_str()), "unbalanced </{name}>");
        } else if !tag.ends_with('/') {
            open.push(name);
        }
    }
    assert!(open.is_empty(), "unclosed {open:?}");
}

#[test]
fn badges_are_well_formed_xml() {
    let mut b = sample("a&b <c> \"d\" 'e' \\ é", "1 < 2 & 3");
    assert_xml(&render(&b));
    b.fixed_widths = Some((50, 50));
    assert_xml(&render(&b));
}

#[test]
fn scale_multiplies_every_size() {
    let mut b = sample("system.cpu", "59%");
    b.scale = 200;
    let svg = render(&b);
    // Boxes (65.89 + 8) × 2 = 147.78 and 35.22 × 2 = 70.44; height 40, radius 6, font 22.
    assert!(svg.contains("width=\"218.22\" height=\"40.00\""), "{svg}");
    assert!(svg.contains("rx=\"6.00\""));
    assert!(svg.contains("font-size=\"22.00\""));
    assert!(svg.contains("<rect class=\"bdge-rect-lbl\" width=\"147.78\" height=\"40.00\""));
    // Value x: 147.78 + 70.44 / 2 − 1 = 182.00; label x 73.89; baselines 28 and 29.
    assert!(svg.contains("x=\"182.00\" y=\"28\""), "{svg}");
    assert!(svg.contains("x=\"73.89\" y=\"29\""), "{svg}");
    assert!(svg.contains("var pad=8.00;"), "the script pads at scale too");
}

#[test]
fn baselines_grow_by_14_2_px_per_100_percent() {
    // What Netdata 1.37.1 wrote for these scales.
    for (scale, y) in [(100, 14), (101, 14), (150, 21), (199, 28), (200, 28), (250, 35), (300, 42), (500, 70)]
    {
        assert_eq!(baseline(scale), y, "{scale}");
    }
    assert_eq!(baseline(1000), 141);
    assert_eq!(baseline(100_000), 14_199);
}

#[test]
fn fixed_widths_clip_the_texts_and_need_no_script() {
    let mut b = sample("system.cpu", "36.8%");
    b.fixed_widths = Some((100, 50));
    let svg = render(&b);
    assert!(svg.contains("width=\"150.00\" height=\"20.00\""), "{svg}");
    assert!(svg.contains("<clipPath id=\"lbl-rect\"><rect class=\"bdge-rect-lbl\" width=\"100.00\" height=\"20.00\"/></clipPath>"));
    assert!(svg.contains("<clipPath id=\"val-rect\"><rect class=\"bdge-rect-val\" x=\"100.00\" width=\"50.00\" height=\"20.00\"/></clipPath>"));
    // Label x = 50, value x = 100 + 25 − 1 (as Netdata).
    assert!(svg.contains("x=\"50.00\" y=\"14\""));
    assert!(svg.contains("x=\"124.00\" y=\"14\""));
    assert!(!svg.contains("<script"));
    b.scale = 150;
    let svg = render(&b);
    assert!(svg.contains("width=\"225.00\" height=\"30.00\""), "{svg}");
    assert!(svg.contains("x=\"186.50\" y=\"21\""), "150 + 37.5 − 1: {svg}");
}

#[test]
fn texts_are_escaped_and_backslashes_shown_as_slashes() {
    assert_eq!(xml_escape("<b>\"x'y>\\z&"), "&lt;b&gt;&quot;x&apos;y&gt;/z&amp;");
    assert_eq!(xml_escape("a\u{0}b\tc"), "ab\tc");
    let svg = render(&sample("a&b", "<1>"));
    assert!(svg.contains(">a&amp;b</text>") && svg.contains(">&lt;1&gt;</text>"), "{svg}");
    // The width is the text's, not its escape's: a & b → 6.61 + 7.99 + 6.85 + 3 × 0.2 − 0.2
    // + 1 = 22.85, and the box 8 px more.
    let (lw, _) = box_widths(&sample("a&b", "-"));
    assert!(close(lw, 30.85), "{lw}");
}

#[test]
fn badge_paths_are_the_api_endpoint_of_a_host() {
    assert!(is_badge_path("/api/v1/badge.svg"));
    assert!(is_badge_path("/host/child/api/v1/badge.svg"));
    assert!(!is_badge_path("/host//api/v1/badge.svg"));
    assert!(!is_badge_path("/host/a/b/api/v1/badge.svg"));
    assert!(!is_badge_path("/x/api/v1/badge.svg"));
    assert!(!is_badge_path("/api/v1/badge.svgz"));
    assert!(!is_badge_path("/api/v1/data"));
}

pub(super) fn pairs(q: &str) -> Vec<(String, String)> {
    crate::web::http::query_pairs(q).unwrap()
}

#[test]
fn requests_read_like_netdatas() {
    let q = BadgeQuery::parse(&pairs("chart=system.cpu"));
    assert_eq!((q.after, q.before, q.points, q.group), (None, 0, 1, Group::Average));
    assert_eq!((q.multiply, q.divide, q.precision, q.scale, q.refresh), (1, 1, None, 100, Refresh::None));
    let q = BadgeQuery::parse(&pairs(
        "chart=c&dimension=user&dimension=system&dims=x,y&multiply=0&divide=abc&scale=50&refresh=-7&precision=-2&group=nonsense&options=abs|nonsense|percentage&points=-3&label=&units=",
    ));
    assert_eq!(q.dimensions.as_deref(), Some("user|system|x,y"));
    assert_eq!((q.multiply, q.divide, q.scale, q.refresh, q.precision), (1, 1, 100, Refresh::Every(7), None));
    assert_eq!((q.group, q.points), (Group::Average, 0));
    assert!(q.options.absolute && q.options.percentage && !q.options.unaligned);
    assert_eq!((q.label, q.units), (None, None), "empty values are not given");
    let q = BadgeQuery::parse(&pairs("refresh=auto&fixed_width_lbl=100&after=-60&before=-10&precision=3"));
    assert_eq!(
        (q.refresh, q.fixed_widths, q.after, q.before, q.precision),
        (Refresh::Auto, None, Some(-60), -10, Some(3))
    );
    assert_eq!(
        BadgeQuery::parse(&pairs("fixed_width_lbl=100&fixed_width_val=50")).fixed_widths,
        Some((100, 50))
    );
    assert_eq!(BadgeQuery::parse(&pairs("fixed_width_lbl=0&fixed_width_val=50")).fixed_widths, None);
    assert_eq!(BadgeQuery::parse(&pairs("refresh=abc")).refresh, Refresh::None);
}

#[test]
fn http_dates_are_imf_fixdate() {
    assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_eq!(http_date(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    assert_eq!(http_date(1_796_584_592), "Sun, 06 Dec 2026 19:16:32 GMT");
    let no = "no-cache, no-store, must-revalidate";
    assert_eq!(
        cache_headers(Caching::None, 0),
        (no, "Pragma: no-cache\r\nExpires: Thu, 01 Jan 1970 00:00:01 GMT\r\n".to_string())
    );
    assert_eq!(
        cache_headers(Caching::For(10), 0),
        ("public", "Expires: Thu, 01 Jan 1970 00:00:10 GMT\r\n".into())
    );
    assert_eq!(
        cache_headers(Caching::NoneExpiresIn(5), 0),
        (no, "Pragma: no-cache\r\nExpires: Thu, 01 Jan 1970 00:00:05 GMT\r\n".to_string())
    );
}
