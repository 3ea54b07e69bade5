// Unit tests of AdaptiveConcurrency with an injected clock and a simulated server: the limit grows
// while latency is flat (latency-bound), settles at the knee when the CPU saturates, and backs off
// on retryable failures. No sleeping: time is advanced by the test.
#include "../../lib/detail/adaptive_concurrency.hpp"

#include "catch.hpp"

#include <algorithm>

using namespace ctsqs;
using namespace std::chrono_literals;
using clk = AdaptiveConcurrency::clock;

namespace {

/// A system where an object costs `fixed` of waiting (network) plus `cpu` of processing on one
/// core: with n in flight, latency is fixed + n × cpu once n × cpu exceeds fixed (the core is the
/// queue), else fixed + cpu. Runs `rounds` rounds of `limit` objects, each round one latency long.
struct Simulated {
  std::chrono::microseconds fixed, cpu;
  std::chrono::microseconds latency(std::size_t n) const {
    const auto busy = cpu * static_cast<long>(n);
    return busy > fixed ? busy + cpu : fixed + cpu;
  }
};

std::size_t run(AdaptiveConcurrency& a, const Simulated& sim, clk::time_point& now, int rounds, bool fail = false) {
  for (int r = 0; r < rounds; ++r) {
    const auto n = a.limit();
    for (std::size_t i = 0; i < n; ++i) a.started(i + 1);
    const auto lat = sim.latency(n);
    now += lat;
    for (std::size_t i = 0; i < n; ++i) a.completed(lat, fail, now);
  }
  return a.limit();
}

}  // namespace

TEST_CASE("adaptive concurrency grows while latency stays flat, up to the maximum", "[adaptive]") {
  auto now = clk::time_point{};
  AdaptiveConcurrency a({.initial = 8, .min = 1, .max = 64}, now);
  // 50 ms to the first byte, 0.1 ms of CPU per object: latency-bound far beyond 64 in flight.
  Simulated s3{50000us, 100us};
  CHECK(run(a, s3, now, 1) == 16);  // slow start: doubles per window (one 50 ms round here)
  CHECK(run(a, s3, now, 2) == 64);
  CHECK(run(a, s3, now, 200) == 64);
  CHECK(a.baseline() >= 50ms);
}

TEST_CASE("adaptive concurrency settles near the knee when the CPU is the limit", "[adaptive]") {
  auto now = clk::time_point{};
  AdaptiveConcurrency a({.initial = 8, .min = 1, .max = 256}, now);
  // 5 ms of waiting, 0.5 ms of CPU: beyond 10 in flight objects only queue for the core.
  Simulated sim{5000us, 500us};
  run(a, sim, now, 400);
  std::size_t lo = 1000, hi = 0;
  for (int i = 0; i < 200; ++i) {
    run(a, sim, now, 1);
    lo = std::min(lo, a.limit());
    hi = std::max(hi, a.limit());
  }
  INFO("limit oscillated in [" << lo << ", " << hi << "]");
  CHECK(lo >= 8);   // never starved below what the network needs
  CHECK(hi <= 20);  // never far past the knee at 10 (queueing only costs memory)
}

TEST_CASE("adaptive concurrency shrinks when latency climbs and on retryable failures", "[adaptive]") {
  auto now = clk::time_point{};
  AdaptiveConcurrency a({.initial = 32, .min = 2, .max = 64}, now);
  Simulated fast{50000us, 100us};
  run(a, fast, now, 20);
  const auto grown = a.limit();
  // The same objects suddenly take 4× as long per CPU-bound unit: a saturated machine.
  Simulated slow{50000us, 10000us};
  run(a, slow, now, 5);
  CHECK(a.limit() < grown);
  // Throttling: every window with a failure cuts the limit by 10 %, down to the minimum.
  const auto before = a.limit();
  run(a, fast, now, 3, /*fail=*/true);
  CHECK(a.limit() < before);
  run(a, fast, now, 100, /*fail=*/true);
  CHECK(a.limit() == 2);
}

TEST_CASE("adaptive concurrency relearns its baseline when the network changes for good", "[adaptive]") {
  auto now = clk::time_point{};
  AdaptiveConcurrency a({.initial = 8, .min = 1, .max = 64, .probe_interval = 10s}, now);
  run(a, Simulated{20000us, 100us}, now, 300);  // 20 ms away
  REQUIRE(a.limit() == 64);
  // The bucket is now 80 ms away: everything looks "slow" against the old baseline and the
  // limit backs off, until the next probe measures the new unqueued latency.
  Simulated far{80000us, 100us};
  run(a, far, now, 20);
  CHECK(a.limit() < 64);
  bool probed = false;
  for (int i = 0; i < 400 && a.limit() < 64; ++i) {
    run(a, far, now, 1);
    probed = probed || a.probing();
  }
  CHECK(probed);
  CHECK(a.baseline() >= 80ms);
  CHECK(a.limit() == 64);
}

TEST_CASE("adaptive concurrency does not grow a limit that is not used", "[adaptive]") {
  auto now = clk::time_point{};
  AdaptiveConcurrency a({.initial = 4, .min = 1, .max = 64}, now);
  // Only one object at a time arrives (a nearly empty queue): the limit is never reached.
  for (int i = 0; i < 100; ++i) {
    a.started(1);
    now += 60ms;
    a.completed(60ms, false, now);
  }
  CHECK(a.limit() == 4);
}
