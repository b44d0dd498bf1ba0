//! CPU time of each collector thread, for the self-monitoring chart `netdata.workers_cpu`.
//!
//! Every collector thread owns a [`Worker`] and, after each collection, records its own CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`: one system call per tick, no file to read). The
//! self-monitoring collector reads all of them once a second.
//!
//! The threads tick on the same wall-clock boundaries, so at a boundary some have already
//! collected and some have not. To give every second the CPU of whole collections, a worker
//! keeps the time at the end of its last tick and at the end of the tick before it, and a
//! reader at tick `T` takes the figure as of the end of the last tick before `T`.

use std::sync::Arc;

use parking_lot::Mutex;

/// One thread's CPU time.
pub struct Worker {
    name: String,
    state: Mutex<Times>,
}

#[derive(Clone, Copy, Default)]
struct Times {
    /// The tick (µs) of the last recorded collection; 0 before the first.
    tick_ut: u64,
    /// Thread CPU time (ns) at the end of that tick's collection.
    last_ns: u64,
    /// Thread CPU time (ns) at the end of the tick before it.
    prev_ns: u64,
}

impl Worker {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Records that the collection of tick `tick_ut` ended with `cpu_ns` of thread CPU time.
    pub fn record(&self, tick_ut: u64, cpu_ns: u64) {
        let mut t = self.state.lock();
        if tick_ut == t.tick_ut {
            t.last_ns = cpu_ns;
            return;
        }
        t.prev_ns = t.last_ns;
        t.last_ns = cpu_ns;
        t.tick_ut = tick_ut;
    }

    /// Thread CPU time (ns) as of the end of the last collection before tick `tick_ut`.
    pub fn cpu_before(&self, tick_ut: u64) -> u64 {
        let t = *self.state.lock();
        if t.tick_ut >= tick_ut {
            t.prev_ns
        } else {
            t.last_ns
        }
    }
}

/// The registry of workers, shared by the collector threads and the self-monitoring one.
#[derive(Clone, Default)]
pub struct Workers(Arc<Mutex<Vec<Arc<Worker>>>>);

impl Workers {
    /// A new worker named `name` (the thread's name), in the order of registration.
    pub fn register(&self, name: &str) -> Arc<Worker> {
        let w = Arc::new(Worker { name: name.to_owned(), state: Mutex::new(Times::default()) });
        self.0.lock().push(Arc::clone(&w));
        w
    }

    /// How many workers are registered.
    pub fn len(&self) -> usize {
        self.0.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.lock().is_empty()
    }

    /// Worker number `i`, if there is one.
    pub fn get(&self, i: usize) -> Option<Arc<Worker>> {
        self.0.lock().get(i).cloned()
    }
}

/// The calling thread's CPU time (user + system) in nanoseconds.
pub fn thread_cpu_ns() -> u64 {
    crate::sys::time::thread_cpu_ns().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000;

    #[test]
    fn a_reader_gets_whole_ticks_whether_the_worker_ran_first_or_not() {
        let w = Workers::default().register("proc.stat");
        w.record(10 * S, 1_000);
        // The worker has not collected tick 11 yet: the end of tick 10.
        assert_eq!(w.cpu_before(11 * S), 1_000);
        w.record(11 * S, 1_500);
        // It already has: still the end of tick 10, not half of tick 11.
        assert_eq!(w.cpu_before(11 * S), 1_000);
        assert_eq!(w.cpu_before(12 * S), 1_500);
        // A worker that collects every 10 s still answers with its last whole tick.
        assert_eq!(w.cpu_before(15 * S), 1_500);
        w.record(20 * S, 2_000);
        assert_eq!(w.cpu_before(20 * S), 1_500);
        assert_eq!(w.cpu_before(21 * S), 2_000);
    }

    #[test]
    fn thread_cpu_time_grows_with_work() {
        let before = thread_cpu_ns();
        let mut x = 0u64;
        for i in 0..3_000_000u64 {
            x = x.wrapping_mul(31).wrapping_add(i);
        }
        std::hint::black_box(x);
        assert!(thread_cpu_ns() > before);
    }

    #[test]
    fn registry_keeps_the_order_of_registration() {
        let r = Workers::default();
        r.register("a");
        r.register("b");
        assert_eq!(r.len(), 2);
        assert_eq!(r.get(1).unwrap().name(), "b");
        assert!(r.get(2).is_none());
    }
}
