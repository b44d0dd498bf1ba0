//! The engine's schedule against Netdata 1.37's `mark_scheduled_instances`: an instance is
//! due when `now % update every >= update every - the node's update every`, `now` being a
//! second the node collects in.

use super::{due_at_or_before, phase};

#[test]
fn exports_in_the_last_collected_second_before_each_multiple() {
    // Node collecting every second: second 4 of 5, 9 of 10, every second for 1.
    assert_eq!(phase(5, 1), 4);
    assert_eq!(phase(10, 1), 9);
    assert_eq!(phase(1, 1), 0);
    // Every 2 s: Netdata wakes at even seconds, 8 is the first with 8 % 10 >= 8.
    assert_eq!(phase(10, 2), 8);
    // Every 5 s: 5 % 10 >= 5.
    assert_eq!(phase(10, 5), 5);
    // An instance faster than the node: every multiple.
    assert_eq!(phase(1, 5), 0);
}

#[test]
fn the_latest_export_time() {
    // Every 5 s at second 4: …, 1699999999, 1700000004, …
    assert_eq!(due_at_or_before(1_700_000_004, 5, 4), 1_700_000_004);
    assert_eq!(due_at_or_before(1_700_000_003, 5, 4), 1_699_999_999);
    assert_eq!(due_at_or_before(1_700_000_008, 5, 4), 1_700_000_004);
    assert_eq!(due_at_or_before(1_700_000_009, 5, 4), 1_700_000_009);
    assert_eq!(due_at_or_before(1_700_000_009, 1, 0), 1_700_000_009);
    assert_eq!(due_at_or_before(1_700_000_009, 10, 9), 1_700_000_009);
    assert_eq!(due_at_or_before(1_700_000_008, 10, 9), 1_699_999_999);
}
