// Test helper: a Sink that keeps in memory what a flush acknowledged, safe to call from the
// collector's sink thread while the test reads it after the run.
#pragma once

#include "ctsqs/sink/sink.hpp"

#include <mutex>
#include <string>
#include <vector>

namespace ctsqs::test {

/// Keeps each delivered event's record, or "tag record" when made with `with_tag`; events
/// written but not yet flushed are not in `delivered`.
class MemorySink final : public Sink {
 public:
  explicit MemorySink(bool with_tag = false) : with_tag_(with_tag) {}
  result<void> write(const Event& e, Diagnostics&) override {
    std::lock_guard lk(mu_);
    pending_.push_back(with_tag_ ? e.tag + " " + e.record : e.record);
    return {};
  }
  result<void> flush(Diagnostics&) override {
    std::lock_guard lk(mu_);
    for (auto& p : pending_) delivered.push_back(std::move(p));
    pending_.clear();
    return {};
  }
  std::vector<std::string> delivered;

 private:
  bool with_tag_;
  std::mutex mu_;
  std::vector<std::string> pending_;
};

}  // namespace ctsqs::test
