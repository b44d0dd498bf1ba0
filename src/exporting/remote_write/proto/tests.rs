//! The encoding checked against bytes worked out by hand from the protobuf wire format, and
//! by a small independent decoder.

use proptest::prelude::*;

use super::*;

type Series = (Vec<(String, String)>, Vec<(u64, i64)>);

/// A strict reader of the four messages: every field must be one the schema has, with its
/// wire type, and every length must fit.
fn decode(mut b: &[u8]) -> Result<Vec<Series>, String> {
    fn var(b: &mut &[u8]) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let (&x, rest) = b.split_first().ok_or("varint cut")?;
            *b = rest;
            v |= u64::from(x & 0x7f) << shift;
            if x < 0x80 {
                return Ok(v);
            }
        }
        Err("varint too long".into())
    }
    fn bytes<'a>(b: &mut &'a [u8]) -> Result<&'a [u8], String> {
        let n = var(b)? as usize;
        if n > b.len() {
            return Err("length past the end".into());
        }
        let (x, rest) = b.split_at(n);
        *b = rest;
        Ok(x)
    }
    fn text(b: &mut &[u8]) -> Result<String, String> {
        String::from_utf8(bytes(b)?.to_vec()).map_err(|e| e.to_string())
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        if var(&mut b)? != 0x0a {
            return Err("WriteRequest: unexpected field".into());
        }
        let mut ts = bytes(&mut b)?;
        let mut series: Series = (Vec::new(), Vec::new());
        while !ts.is_empty() {
            match var(&mut ts)? {
                0x0a => {
                    let mut l = bytes(&mut ts)?;
                    let (mut name, mut value) = (String::new(), String::new());
                    while !l.is_empty() {
                        match var(&mut l)? {
                            0x0a => name = text(&mut l)?,
                            0x12 => value = text(&mut l)?,
                            t => return Err(format!("Label: field tag {t:#x}")),
                        }
                    }
                    series.0.push((name, value));
                }
                0x12 => {
                    let mut s = bytes(&mut ts)?;
                    let (mut bits, mut t) = (0u64, 0i64);
                    while !s.is_empty() {
                        match var(&mut s)? {
                            0x09 => {
                                let (x, rest) = s.split_at_checked(8).ok_or("double cut")?;
                                bits = u64::from_le_bytes(x.try_into().map_err(|_| "double")?);
                                s = rest;
                            }
                            0x10 => t = var(&mut s)? as i64,
                            t => return Err(format!("Sample: field tag {t:#x}")),
                        }
                    }
                    series.1.push((bits, t));
                }
                t => return Err(format!("TimeSeries: field tag {t:#x}")),
            }
        }
        out.push(series);
    }
    Ok(out)
}

#[test]
fn one_series_matches_the_bytes_worked_out_by_hand() {
    let mut b = WriteRequestBuilder::new();
    b.series(&[("b", "2"), ("a", "1")]).sample(1.0, 1000);
    let expected: &[u8] = &[
        0x0a, 0x1e, // timeseries, 30 bytes
        0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'1', // label a=1 (sorted first)
        0x0a, 0x06, 0x0a, 0x01, b'b', 0x12, 0x01, b'2', // label b=2
        0x12, 0x0c, // sample, 12 bytes
        0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, // value 1.0 as little-endian IEEE 754
        0x10, 0xe8, 0x07, // timestamp 1000 = 0b111_1101000
    ];
    assert_eq!(b.finish(), expected);
    assert_eq!((b.series_count(), b.sample_count()), (1, 1));
}

#[test]
fn defaults_are_left_out_like_any_proto3_encoder() {
    let mut b = WriteRequestBuilder::new();
    b.series(&[("a", "x")]).sample(0.0, 0).sample(-0.0, 1);
    // Sample 1: value +0.0 and timestamp 0 both default: an empty message. Sample 2: -0.0
    // is not the default (its bits are not zero), timestamp 1.
    let expected: &[u8] = &[
        0x0a, 0x17, //
        0x0a, 0x06, 0x0a, 0x01, b'a', 0x12, 0x01, b'x', //
        0x12, 0x00, //
        0x12, 0x0b, 0x09, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x10, 0x01,
    ];
    assert_eq!(b.finish(), expected);
}

#[test]
fn negative_timestamps_are_ten_byte_varints() {
    let mut b = WriteRequestBuilder::new();
    b.series(&[("a", "x")]).sample(0.0, -1);
    let s = b.finish();
    assert_eq!(&s[s.len() - 11..], &[0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert_eq!(decode(s).unwrap()[0].1, vec![(0, -1)]);
}

#[test]
fn labels_sorted_by_bytes_first_duplicate_wins_empties_dropped() {
    let mut b = WriteRequestBuilder::new();
    b.series(&[
        ("instance", "h1"),
        ("__name__", "netdata_x"),
        ("family", ""),
        ("", "nameless"),
        ("instance", "h2"),
        ("Zeta", "upper sorts before lower"),
        ("chart", "system.cpu"),
    ])
    .sample(2.5, 10);
    let got = decode(b.finish()).unwrap();
    let labels: Vec<(&str, &str)> = got[0].0.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    assert_eq!(
        labels,
        [
            ("Zeta", "upper sorts before lower"),
            ("__name__", "netdata_x"),
            ("chart", "system.cpu"),
            ("instance", "h1"),
        ]
    );
}

#[test]
fn out_of_order_and_orphan_samples_are_left_out_and_counted() {
    let mut b = WriteRequestBuilder::new();
    b.sample(1.0, 1); // no series yet
    b.series(&[("a", "x")]).sample(1.0, 100).sample(2.0, 100).sample(3.0, 50).sample(4.0, 200);
    let got = decode(b.finish()).unwrap();
    assert_eq!(got[0].1, vec![(1.0f64.to_bits(), 100), (4.0f64.to_bits(), 200)]);
    assert_eq!(b.out_of_order(), 3);
    assert_eq!(b.sample_count(), 2);
}

#[test]
fn a_series_without_samples_is_not_sent() {
    let mut b = WriteRequestBuilder::new();
    b.series(&[("a", "empty")]);
    b.series(&[("a", "full")]).sample(1.0, 1);
    b.series(&[("a", "empty too")]);
    let got = decode(b.finish()).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, vec![("a".to_string(), "full".to_string())]);
    assert_eq!(b.series_count(), 1);
    b.clear();
    assert!(b.finish().is_empty());
}

#[test]
fn a_long_series_gets_a_multi_byte_length() {
    let value = "v".repeat(300);
    let mut b = WriteRequestBuilder::new();
    b.series(&[("a", &value)]).sample(1.0, 1);
    let s = b.finish().to_vec();
    // Label: 0x0a len(2) [0x0a 01 'a'] [0x12 ac 02 v×300] = 306 bytes body; series body:
    // 0x0a + 2-byte length + 306 + sample (0x12 0x0b + 11) = 322 = 0xc2 0x02.
    assert_eq!(&s[..3], &[0x0a, 0xc2, 0x02]);
    assert_eq!(s.len(), 3 + 322);
    assert_eq!(decode(&s).unwrap()[0].0[0].1, value);
}

#[test]
fn stale_marker_is_the_prometheus_nan() {
    assert!(stale_nan().is_nan());
    assert_eq!(stale_nan().to_bits(), 0x7ff0000000000002);
    let mut b = WriteRequestBuilder::new();
    b.series(&[("a", "x")]).sample(stale_nan(), 5);
    assert_eq!(decode(b.finish()).unwrap()[0].1, vec![(0x7ff0000000000002, 5)]);
}

#[test]
fn varint_sizes() {
    for (v, n) in [(0u64, 1), (127, 1), (128, 2), (16383, 2), (16384, 3), (u64::MAX, 10)] {
        assert_eq!(varint_len(v), n, "{v}");
        let mut out = Vec::new();
        varint(&mut out, v);
        assert_eq!(out.len(), n, "{v}");
    }
}

#[test]
fn reuse_allocates_nothing_once_grown() {
    let mut b = WriteRequestBuilder::new();
    let labels = [("__name__", "m"), ("chart", "c"), ("dimension", "d"), ("instance", "i")];
    for round in 0..3 {
        b.clear();
        for s in 0..100 {
            b.series(&labels);
            for t in 0..10 {
                b.sample(f64::from(s * t), 1_700_000_000_000 + i64::from(t));
            }
        }
        let cap = b.buf.capacity();
        let _ = b.finish();
        if round > 0 {
            assert_eq!(b.buf.capacity(), cap, "grew on round {round}");
        }
    }
}

proptest! {
    #[test]
    fn what_is_built_decodes_to_the_sorted_deduplicated_input(
        series in prop::collection::vec(
            (
                prop::collection::vec(("[a-c_]{0,3}", "[x-z\u{e9}]{0,3}"), 0..6),
                prop::collection::vec((any::<f64>(), any::<i64>()), 0..5),
            ),
            0..8,
        )
    ) {
        let mut b = WriteRequestBuilder::new();
        let mut expected = Vec::new();
        for (labels, samples) in &series {
            let refs: Vec<(&str, &str)> = labels.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            b.series(&refs);
            let mut want_labels: Vec<(String, String)> = Vec::new();
            let mut sorted: Vec<&(String, String)> = labels.iter().filter(|(n, v)| !n.is_empty() && !v.is_empty()).collect();
            sorted.sort_by(|a, b| a.0.cmp(&b.0)); // stable: the first given stays first
            for (n, v) in sorted {
                if want_labels.last().is_none_or(|(last, _)| last != n) {
                    want_labels.push((n.clone(), v.clone()));
                }
            }
            let mut want_samples = Vec::new();
            for &(v, t) in samples {
                b.sample(v, t);
                if want_samples.last().is_none_or(|&(_, last)| t > last) {
                    want_samples.push((v.to_bits(), t));
                }
            }
            if !want_samples.is_empty() {
                expected.push((want_labels, want_samples));
            }
        }
        let got = decode(b.finish()).unwrap();
        prop_assert_eq!(got, expected);
    }
}
