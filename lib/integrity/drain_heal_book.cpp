// HoleBook: the pure bookkeeping of the drain's heals (holes in their grace, heal and report
// messages, receipts, outcomes); no I/O, no clock.
#include "ctsqs/aws/error.hpp"
#include "ctsqs/integrity/drain_heal.hpp"

#include <algorithm>
#include <charconv>

namespace ctsqs::integrity {

std::vector<Hole> HoleBook::wait(std::vector<Hole> holes, Clock::time_point due) {
  std::vector<Hole> taken;
  for (auto& h : holes) {
    auto uri = h.uri();
    if (by_uri_.count(uri) || given_up_.count(uri)) continue;
    const auto id = next_id_++;
    Entry e;
    e.kind = Entry::Kind::heal;
    e.state = Entry::State::waiting;
    e.hole = h;
    e.at = due;
    entries_.emplace(id, std::move(e));
    by_uri_.emplace(std::move(uri), id);
    taken.push_back(std::move(h));
  }
  return taken;
}

std::vector<Hole> HoleBook::take_due(Clock::time_point now) {
  std::vector<Hole> due;
  for (auto& [id, e] : entries_) {
    if (e.kind != Entry::Kind::heal || e.state != Entry::State::waiting || e.at > now) continue;
    e.state = Entry::State::checking;
    due.push_back(e.hole);
  }
  return due;
}

std::optional<HoleBook::Clock::time_point> HoleBook::next_due() const {
  std::optional<Clock::time_point> next;
  for (const auto& [id, e] : entries_)
    if (e.state == Entry::State::waiting && (!next || e.at < *next)) next = e.at;
  return next;
}

void HoleBook::queue(const std::string& uri) {
  auto it = by_uri_.find(uri);
  if (it == by_uri_.end()) return;
  auto& e = entries_.at(it->second);
  if (e.state == Entry::State::checking) e.state = Entry::State::visible;
}

void HoleBook::drop(const std::string& uri) {
  auto it = by_uri_.find(uri);
  if (it == by_uri_.end()) return;
  entries_.erase(it->second);
  by_uri_.erase(it);
}

void HoleBook::report(std::vector<Event> events) {
  if (events.empty()) return;
  Entry e;
  e.kind = Entry::Kind::report;
  e.state = Entry::State::visible;
  e.events = std::move(events);
  entries_.emplace(next_id_++, std::move(e));
}

std::vector<SqsMessage> HoleBook::receive(int max, Clock::time_point now) {
  std::vector<SqsMessage> out;
  for (auto& [id, e] : entries_) {
    if (static_cast<int>(out.size()) >= std::max(1, max)) break;
    const bool ready = e.state == Entry::State::visible || (e.state == Entry::State::hidden && e.at <= now);
    if (!ready) continue;
    e.state = Entry::State::in_flight;
    ++e.receives;
    e.outcome.reset();
    e.fetch_seen = false;
    e.fetch_ec = {};
    e.fetch_why.clear();
    e.sha256.clear();
    e.receipt = std::string(receipt_prefix) + std::to_string(next_receipt_++);
    by_receipt_[e.receipt] = id;
    SqsMessage m;
    m.message_id = (e.kind == Entry::Kind::heal ? "heal-" : "heal-report-") + std::to_string(id);
    m.receipt_handle = e.receipt;
    m.receive_count = e.receives;
    out.push_back(std::move(m));
  }
  return out;
}

bool HoleBook::owns(std::string_view receipt_handle) const { return by_receipt_.count(receipt_handle) > 0; }

std::optional<std::uint64_t> HoleBook::in_flight(std::string_view receipt_handle) const {
  auto it = by_receipt_.find(receipt_handle);
  if (it == by_receipt_.end()) return std::nullopt;
  return it->second;
}

std::optional<MessagePlan> HoleBook::plan(std::string_view receipt_handle) const {
  const auto id = in_flight(receipt_handle);
  if (!id) return std::nullopt;
  const auto& e = entries_.at(*id);
  MessagePlan p;
  if (e.kind == Entry::Kind::heal) {
    p.kind = MessagePlan::Kind::objects;
    ObjectRef o;
    o.bucket = e.hole.bucket;
    o.key = e.hole.key;
    p.objects.push_back(std::move(o));
  } else {
    p.kind = MessagePlan::Kind::inline_records;
    p.inline_records.push_back("{}");
    p.inline_source = report_prefix_ + std::to_string(*id);
  }
  return p;
}

const std::vector<Event>* HoleBook::report_events(std::string_view inline_source) const {
  if (!inline_source.starts_with(report_prefix_)) return nullptr;
  const auto digits = inline_source.substr(report_prefix_.size());
  std::uint64_t id = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), id);
  if (ec != std::errc() || p != digits.data() + digits.size()) return nullptr;
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.kind != Entry::Kind::report) return nullptr;
  return &it->second.events;
}

void HoleBook::note_outcome(std::string_view receipt_handle, MessageOutcome outcome) {
  if (auto id = in_flight(receipt_handle)) entries_.at(*id).outcome = outcome;
}

std::string HoleBook::read_sha256(std::string_view bucket, std::string_view key) const {
  auto it = by_uri_.find("s3://" + std::string(bucket) + "/" + std::string(key));
  if (it == by_uri_.end()) return {};
  const auto& e = entries_.at(it->second);
  return e.state == Entry::State::in_flight && e.fetch_seen && !e.fetch_ec ? e.sha256 : std::string();
}

bool HoleBook::fetching(std::string_view bucket, std::string_view key) const {
  auto it = by_uri_.find("s3://" + std::string(bucket) + "/" + std::string(key));
  return it != by_uri_.end() && entries_.at(it->second).state == Entry::State::in_flight;
}

void HoleBook::fetched(std::string_view bucket, std::string_view key, error_code ec, std::string why,
                       std::string sha256) {
  auto it = by_uri_.find("s3://" + std::string(bucket) + "/" + std::string(key));
  if (it == by_uri_.end()) return;
  auto& e = entries_.at(it->second);
  if (e.state != Entry::State::in_flight) return;
  e.fetch_seen = true;
  e.fetch_ec = ec;
  e.fetch_why = std::move(why);
  e.sha256 = std::move(sha256);
}

FinishedHeal HoleBook::finish(std::uint64_t id, HealEnd end) {
  auto node = entries_.extract(id);
  auto& e = node.mapped();
  by_receipt_.erase(e.receipt);
  const auto uri = e.hole.uri();
  by_uri_.erase(uri);
  if (end == HealEnd::evidence_missing || end == HealEnd::failed) given_up_.insert(uri);
  FinishedHeal f;
  f.hole = std::move(e.hole);
  f.end = end;
  f.sha256 = std::move(e.sha256);
  f.why = std::move(e.fetch_why);
  return f;
}

FinishedHeal HoleBook::give_up(std::uint64_t id) {
  const auto& e = entries_.at(id);
  const bool gone = e.fetch_ec == aws_errc::no_such_key || e.fetch_ec == aws_errc::no_such_bucket;
  auto f = finish(id, gone ? HealEnd::evidence_missing : HealEnd::failed);
  if (f.why.empty()) f.why = "its content could not be delivered (the collector's log line above says why)";
  return f;
}

bool HoleBook::change_visibility(std::string_view receipt_handle, std::chrono::seconds timeout, Clock::time_point now,
                                 std::optional<FinishedHeal>& finished) {
  finished.reset();
  const auto id = in_flight(receipt_handle);
  if (!id) return false;
  auto& e = entries_.at(*id);
  if (!e.outcome && timeout.count() > 0) return true;  // an extension while it is worked on
  // Delivered but kept (ack_messages off): done all the same, it must not be healed again.
  if (e.outcome == MessageOutcome::delivered || e.outcome == MessageOutcome::ignored)
    return deleted(receipt_handle, finished);
  if (e.outcome == MessageOutcome::permanent_failure) {
    if (e.kind == Entry::Kind::heal) {
      finished = give_up(*id);
    } else {
      by_receipt_.erase(e.receipt);
      entries_.erase(*id);
    }
    return true;
  }
  by_receipt_.erase(e.receipt);
  e.receipt.clear();
  if (timeout.count() == 0) {
    if (!e.outcome) --e.receives;  // released (a stop, a sink that gave up): not a receive of its own
    e.state = Entry::State::visible;
  } else {
    e.state = Entry::State::hidden;
    e.at = now + timeout;
  }
  e.outcome.reset();
  return true;
}

bool HoleBook::deleted(std::string_view receipt_handle, std::optional<FinishedHeal>& finished) {
  finished.reset();
  const auto id = in_flight(receipt_handle);
  if (!id) return false;
  auto& e = entries_.at(*id);
  if (e.kind == Entry::Kind::report) {
    by_receipt_.erase(e.receipt);
    entries_.erase(*id);
    return true;
  }
  const bool delivered = e.outcome == MessageOutcome::delivered || e.outcome == MessageOutcome::ignored;
  if (delivered && e.fetch_seen && !e.fetch_ec)
    finished = finish(*id, HealEnd::healed);
  else if (delivered)
    finished = finish(*id, HealEnd::filled_meanwhile);
  else
    finished = give_up(*id);  // deleted after a permanent failure (on_permanent_error)
  return true;
}

HoleBook::Clock::time_point HoleBook::latest_wait(Clock::time_point now) const {
  auto latest = now;
  for (const auto& [id, e] : entries_)
    if ((e.state == Entry::State::waiting || e.state == Entry::State::hidden) && e.at > latest) latest = e.at;
  return latest;
}

std::vector<Hole> HoleBook::abandon() {
  std::vector<Hole> out;
  for (auto& [id, e] : entries_)
    if (e.kind == Entry::Kind::heal) out.push_back(std::move(e.hole));
  entries_.clear();
  by_uri_.clear();
  by_receipt_.clear();
  return out;
}

}  // namespace ctsqs::integrity
