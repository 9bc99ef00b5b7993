//! Latency percentiles over recorded samples and the knee of a throughput curve.

use std::time::Duration;

use serde::Serialize;

/// Latencies of one operation at one concurrency level, sorted ascending.
#[derive(Clone, Debug, Default)]
pub struct Samples {
    sorted: Vec<Duration>,
}

impl Samples {
    pub fn new(mut latencies: Vec<Duration>) -> Samples {
        latencies.sort_unstable();
        Samples { sorted: latencies }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    /// The `percent`-th percentile by the nearest-rank method: the smallest sample such that
    /// at least `percent` % of all samples are less than or equal to it. That is the sample
    /// at 1-based rank ⌈percent × n / 100⌉. Returns `None` when there are no samples.
    ///
    /// The result is always one of the recorded samples; no interpolation takes place.
    ///
    /// # Panics
    ///
    /// When `percent` is 0 or greater than 100.
    pub fn percentile(&self, percent: u32) -> Option<Duration> {
        assert!((1..=100).contains(&percent), "percentile {percent} is outside 1..=100");
        if self.sorted.is_empty() {
            return None;
        }
        let rank = (percent as usize * self.sorted.len()).div_ceil(100);
        Some(self.sorted[rank - 1])
    }

    /// Percentiles, mean and maximum in milliseconds, or `None` when there are no samples.
    pub fn summary(&self) -> Option<LatencySummary> {
        let max = *self.sorted.last()?;
        let total: Duration = self.sorted.iter().sum();
        let mean = total / u32::try_from(self.sorted.len()).unwrap_or(u32::MAX);
        Some(LatencySummary {
            p50: milliseconds(self.percentile(50)?),
            p95: milliseconds(self.percentile(95)?),
            p99: milliseconds(self.percentile(99)?),
            mean: milliseconds(mean),
            max: milliseconds(max),
        })
    }
}

/// Latency percentiles (nearest rank), mean and maximum, in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct LatencySummary {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub mean: f64,
    pub max: f64,
}

pub fn milliseconds(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Throughput ratio between two consecutive levels below which the curve has flattened: the
/// next level must reach at least 110 % of the current throughput.
const KNEE_GROWTH_NUMERATOR: f64 = 11.0;
const KNEE_GROWTH_DENOMINATOR: f64 = 10.0;

/// Finds the knee of a throughput curve: the first concurrency level after which throughput
/// grows by less than 10 %.
///
/// `points` are (concurrency, operations per second) pairs in increasing order of
/// concurrency. The knee is the concurrency c_i of the first pair i with a successor for
/// which t_{i+1} < 1.1 × t_i or t_{i+1} ≤ t_i. The second condition makes a step from zero to
/// zero a knee too. Exactly 10 % growth is not a knee. Returns `None` when every step grows
/// by 10 % or more, including when there are fewer than two points.
///
/// The rule compares neighbours only, whatever the step between their concurrencies: going
/// from 64 to 100 must gain 10 % just as going from 1 to 2 must.
pub fn knee(points: &[(u32, f64)]) -> Option<u32> {
    points.windows(2).find_map(|pair| {
        let (concurrency, current) = pair[0];
        let (_, next) = pair[1];
        let flat = next <= current || KNEE_GROWTH_DENOMINATOR * next < KNEE_GROWTH_NUMERATOR * current;
        flat.then_some(concurrency)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(values: &[u64]) -> Samples {
        Samples::new(values.iter().map(|&value| Duration::from_millis(value)).collect())
    }

    #[test]
    fn percentile_nearest_rank_of_ten() {
        let samples = ms(&[10, 1, 9, 2, 8, 3, 7, 4, 6, 5]);
        assert_eq!(samples.percentile(1), Some(Duration::from_millis(1)));
        assert_eq!(samples.percentile(10), Some(Duration::from_millis(1)));
        assert_eq!(samples.percentile(11), Some(Duration::from_millis(2)));
        assert_eq!(samples.percentile(50), Some(Duration::from_millis(5)));
        assert_eq!(samples.percentile(51), Some(Duration::from_millis(6)));
        assert_eq!(samples.percentile(95), Some(Duration::from_millis(10)));
        assert_eq!(samples.percentile(100), Some(Duration::from_millis(10)));
    }

    #[test]
    fn percentile_of_hundred() {
        let samples = ms(&(1..=100).rev().collect::<Vec<_>>());
        assert_eq!(samples.percentile(50), Some(Duration::from_millis(50)));
        assert_eq!(samples.percentile(95), Some(Duration::from_millis(95)));
        assert_eq!(samples.percentile(99), Some(Duration::from_millis(99)));
    }

    #[test]
    fn percentile_of_one_sample() {
        let samples = ms(&[42]);
        for percent in [1, 50, 99, 100] {
            assert_eq!(samples.percentile(percent), Some(Duration::from_millis(42)));
        }
    }

    #[test]
    fn percentile_of_twenty_at_95() {
        // 95 % of 20 is exactly rank 19; integer arithmetic keeps it from rounding up to 20.
        let samples = ms(&(1..=20).collect::<Vec<_>>());
        assert_eq!(samples.percentile(95), Some(Duration::from_millis(19)));
    }

    #[test]
    fn percentile_without_samples() {
        let samples = ms(&[]);
        assert_eq!(samples.percentile(50), None);
        assert!(samples.summary().is_none());
    }

    #[test]
    #[should_panic(expected = "outside 1..=100")]
    fn percentile_zero_panics() {
        ms(&[1]).percentile(0);
    }

    #[test]
    fn summary_ordered() {
        let samples = ms(&[5, 1, 3, 100, 2, 4]);
        let summary = samples.summary().unwrap();
        assert_eq!(summary.p50, 3.0);
        assert_eq!(summary.p95, 100.0);
        assert_eq!(summary.p99, 100.0);
        assert_eq!(summary.max, 100.0);
        // The mean is truncated to whole nanoseconds.
        assert!((summary.mean - 115.0 / 6.0).abs() < 1e-6, "{}", summary.mean);
    }

    #[test]
    fn knee_first_flat_step() {
        let points = [(1, 100.0), (2, 190.0), (4, 300.0), (8, 320.0), (16, 400.0)];
        assert_eq!(knee(&points), Some(4));
    }

    #[test]
    fn knee_exactly_ten_percent_is_growth() {
        assert_eq!(knee(&[(1, 100.0), (2, 110.0)]), None);
        assert_eq!(knee(&[(1, 100.0), (2, 109.9)]), Some(1));
    }

    #[test]
    fn knee_on_falling_throughput() {
        assert_eq!(knee(&[(1, 100.0), (2, 250.0), (4, 200.0)]), Some(2));
    }

    #[test]
    fn knee_from_zero() {
        assert_eq!(knee(&[(1, 0.0), (2, 0.0)]), Some(1));
        assert_eq!(knee(&[(1, 0.0), (2, 5.0), (4, 5.0)]), Some(2));
    }

    #[test]
    fn knee_not_reached() {
        assert_eq!(knee(&[(1, 100.0), (2, 200.0), (4, 400.0)]), None);
        assert_eq!(knee(&[(1, 100.0)]), None);
        assert_eq!(knee(&[]), None);
    }
}
