// SqsSource: ReceiveMessage / DeleteMessageBatch / ChangeMessageVisibilityBatch through AwsClient,
// with partial batch failures retried.
#include "ctsqs/collector/sqs_source.hpp"

#include "collector_async.hpp"
#include "detail/protocol_util.hpp"
#include "detail/sqs_batch.hpp"
#include "ctsqs/aws/client.hpp"
#include "ctsqs/aws/error.hpp"
#include "ctsqs/aws/endpoints.hpp"
#include "ctsqs/aws/sqs/protocol.hpp"

#include <algorithm>
#include <charconv>
#include <optional>

namespace ctsqs {

namespace asio = boost::asio;

namespace {

result<void> invalid(Diagnostics& diag, std::string message) {
  diag.message = std::move(message);
  return make_error_code(client_errc::invalid_argument);
}

// A failed batch entry as the pipeline sees it.
BatchEntryFailure to_failure(const std::string& handle, const sqs::BatchFailure& f) {
  return BatchEntryFailure{handle, f.code, f.message, f.sender_fault};
}

// The index of an entry id "m<decimal>" below `count`, or nullopt for anything else.
std::optional<std::size_t> entry_index(const std::string& id, std::size_t count) {
  if (id.size() < 2 || id[0] != 'm') return std::nullopt;
  std::size_t idx = 0;
  const char* first = id.data() + 1;
  const char* last = id.data() + id.size();
  auto [end, ec] = std::from_chars(first, last, idx);
  if (ec != std::errc() || end != last || idx >= count) return std::nullopt;
  return idx;
}

}  // namespace

BatchRoundOutcome classify_batch_round(std::size_t entry_count, const sqs::BatchResult& answer, bool may_retry) {
  BatchRoundOutcome out;
  enum class State { missing, done, failed };
  std::vector<State> state(entry_count, State::missing);
  std::vector<const sqs::BatchFailure*> failure(entry_count, nullptr);
  for (const auto& id : answer.successful) {
    auto idx = entry_index(id, entry_count);
    if (!idx) {
      out.unknown_ids.push_back(id);
      continue;
    }
    if (state[*idx] == State::missing) state[*idx] = State::done;
  }
  for (const auto& f : answer.failed) {
    auto idx = entry_index(f.id, entry_count);
    if (!idx) {
      out.unknown_ids.push_back(f.id);
      continue;
    }
    // Listed as failed (even if also as successful): not done. The first failure counts.
    if (state[*idx] != State::failed) failure[*idx] = &f;
    state[*idx] = State::failed;
  }
  for (std::size_t i = 0; i < entry_count; ++i) {
    if (state[i] == State::done) continue;
    if (state[i] == State::failed) {
      if (sqs::is_retryable(*failure[i]) && may_retry)
        out.retry.push_back(i);
      else
        out.failed.emplace_back(i, to_failure({}, *failure[i]));
      continue;
    }
    if (may_retry) {
      out.retry.push_back(i);
    } else {
      out.failed.emplace_back(i, BatchEntryFailure{{}, "MissingFromResponse",
                                                   "the batch answer listed this entry neither as successful nor "
                                                   "as failed",
                                                   false});
    }
  }
  return out;
}

result<QueueCounts> queue_counts_from_attributes(const std::map<std::string, std::string>& attrs, Diagnostics& diag) {
  auto count = [&](const char* name, std::int64_t& out) -> bool {
    auto it = attrs.find(name);
    const char* first = it == attrs.end() ? nullptr : it->second.data();
    const char* last = it == attrs.end() ? nullptr : it->second.data() + it->second.size();
    if (it == attrs.end() || std::from_chars(first, last, out).ptr != last || it->second.empty() || out < 0) {
      diag.message = std::string("GetQueueAttributes: ") + name +
                     (it == attrs.end() ? " is missing" : " is not a count: " + detail::quote_start(it->second, 40));
      return false;
    }
    return true;
  };
  QueueCounts c;
  if (!count("ApproximateNumberOfMessages", c.visible) || !count("ApproximateNumberOfMessagesNotVisible", c.in_flight) ||
      !count("ApproximateNumberOfMessagesDelayed", c.delayed))
    return make_error_code(aws_errc::malformed_response);
  std::int64_t vt = 0;
  if (attrs.count("VisibilityTimeout") && count("VisibilityTimeout", vt)) c.visibility_timeout = std::chrono::seconds(vt);
  diag.message.clear();  // an unreadable VisibilityTimeout only leaves it unknown
  return c;
}

asio::awaitable<result<QueueCounts>> MessageQueue::async_queue_counts(Diagnostics& diag) {
  diag.message = "this queue cannot report its message counts";
  co_return make_error_code(client_errc::invalid_argument);
}

result<void> validate(const SqsSourceOptions& o, Diagnostics& diag) {
  if (o.queue_url.empty()) return invalid(diag, "queue_url: must not be empty");
  const auto& r = o.receive;
  if (r.wait_time.count() < 0 || r.wait_time.count() > 20) return invalid(diag, "wait_time: must be 0..20 s");
  if (r.max_messages < 1 || r.max_messages > 10) return invalid(diag, "max_messages: must be 1..10");
  if (r.visibility_timeout.count() < 0 || r.visibility_timeout.count() > 43200)
    return invalid(diag, "visibility_timeout: must be 0..43200 s");
  if (o.batch_retries < 0) return invalid(diag, "batch_retries: must be >= 0");
  return {};
}

struct SqsSource::Target {
  Endpoint endpoint;
  std::string url;     // "https://sqs.us-east-1.amazonaws.com"
  std::string region;  // signing region
};

SqsSource::SqsSource(AwsClient& client, SqsSourceOptions options, std::shared_ptr<Target> target)
    : client_(client), options_(std::move(options)), target_(std::move(target)) {}

result<std::unique_ptr<SqsSource>> SqsSource::create(AwsClient& client, SqsSourceOptions options, Diagnostics& diag) {
  if (auto v = validate(options, diag); !v) return v.error();
  auto q = parse_queue_url(options.queue_url, diag);
  if (!q) return invalid(diag, "queue URL " + options.queue_url + ": " + diag.message).error();
  const auto& cfg = client.endpoint_config();
  auto region = resolve_region(cfg, &*q, client.env(), diag);
  if (!region) return invalid(diag, "region: " + diag.message).error();
  auto ep = resolve_sqs_endpoint(*q, *region, cfg, client.env(), diag);
  if (!ep) return invalid(diag, "SQS endpoint: " + diag.message).error();
  auto target = std::make_shared<Target>(Target{*ep, ep->url(), ep->signing_region.empty() ? *region : ep->signing_region});
  return std::unique_ptr<SqsSource>(new SqsSource(client, std::move(options), std::move(target)));
}

SqsSource::~SqsSource() = default;

const std::string& SqsSource::endpoint() const noexcept { return target_->url; }

asio::awaitable<result<std::vector<SqsMessage>>> SqsSource::async_receive(int max_messages, Diagnostics& diag) {
  sqs::ReceiveMessageParams p;
  p.endpoint = target_->endpoint;
  p.queue_url = options_.queue_url;
  p.max_messages = std::clamp(max_messages, 1, options_.receive.max_messages);
  p.wait_time = options_.receive.wait_time;
  p.visibility_timeout = options_.receive.visibility_timeout;
  auto req = sqs::make_receive_message_request(p, diag);
  if (!req) co_return req.error();
  CallOptions co;
  co.operation = "ReceiveMessage";
  co.region = target_->region;
  // The long poll itself may take wait_time; the read timeout covers it plus a margin.
  co.read_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options_.receive.wait_time) +
                    client_.endpoint_config().read_timeout;
  auto resp = co_await client_.async_call("sqs", std::move(*req), co, diag);
  if (!resp) co_return resp.error();
  auto msgs = sqs::parse_receive_message_response(*resp, diag);
  if (!msgs) co_return msgs.error();
  std::vector<SqsMessage> out;
  out.reserve(msgs->size());
  for (auto& m : *msgs) {
    SqsMessage s;
    s.receive_count = m.receive_count();
    s.sent_time = m.sent_time();
    s.message_id = std::move(m.message_id);
    s.receipt_handle = std::move(m.receipt_handle);
    s.body = std::move(m.body);
    out.push_back(std::move(s));
  }
  co_return out;
}

asio::awaitable<result<QueueCounts>> SqsSource::async_queue_counts(Diagnostics& diag) {
  sqs::GetQueueAttributesParams p;
  p.endpoint = target_->endpoint;
  p.queue_url = options_.queue_url;
  p.attribute_names = {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
                       "ApproximateNumberOfMessagesDelayed", "VisibilityTimeout"};
  auto req = sqs::make_get_queue_attributes_request(p, diag);
  if (!req) co_return req.error();
  CallOptions co;
  co.operation = "GetQueueAttributes";
  co.region = target_->region;
  auto resp = co_await client_.async_call("sqs", std::move(*req), co, diag);
  if (!resp) co_return resp.error();
  auto attrs = sqs::parse_get_queue_attributes_response(*resp, diag);
  if (!attrs) co_return attrs.error();
  co_return queue_counts_from_attributes(*attrs, diag);
}

// One batch call (<= 10 entries) with its retryable entries sent again; returns final failures.
asio::awaitable<std::vector<BatchEntryFailure>> SqsSource::batch_call(BatchKind kind, std::vector<BatchItem> entries) {
  std::vector<BatchEntryFailure> failures;
  for (int attempt = 0; !entries.empty(); ++attempt) {
    if (attempt > 0) co_await detail::sleep_for(std::chrono::milliseconds(100 << std::min(attempt, 5)));
    Diagnostics diag;
    result<HttpRequest> req = make_error_code(client_errc::invalid_argument);
    CallOptions co;
    co.region = target_->region;
    switch (kind) {
      case BatchKind::delete_messages: {
        sqs::DeleteMessageBatchParams p;
        p.endpoint = target_->endpoint;
        p.queue_url = options_.queue_url;
        for (std::size_t i = 0; i < entries.size(); ++i) p.entries.push_back({"m" + std::to_string(i), entries[i].value});
        req = sqs::make_delete_message_batch_request(p, diag);
        co.operation = "DeleteMessageBatch";
        break;
      }
      case BatchKind::change_visibility: {
        sqs::ChangeMessageVisibilityBatchParams p;
        p.endpoint = target_->endpoint;
        p.queue_url = options_.queue_url;
        for (std::size_t i = 0; i < entries.size(); ++i)
          p.entries.push_back({"m" + std::to_string(i), entries[i].value, entries[i].timeout});
        req = sqs::make_change_message_visibility_batch_request(p, diag);
        co.operation = "ChangeMessageVisibilityBatch";
        break;
      }
      case BatchKind::send_messages: {
        sqs::SendMessageBatchParams p;
        p.endpoint = target_->endpoint;
        p.queue_url = options_.queue_url;
        for (std::size_t i = 0; i < entries.size(); ++i) p.entries.push_back({"m" + std::to_string(i), entries[i].value});
        req = sqs::make_send_message_batch_request(p, diag);
        co.operation = "SendMessageBatch";
        break;
      }
    }
    if (!req) {
      for (auto& e : entries) failures.push_back({e.name, "InvalidRequest", diag.message, true});
      break;
    }
    auto resp = co_await client_.async_call("sqs", std::move(*req), co, diag);
    result<sqs::BatchResult> br = make_error_code(client_errc::invalid_argument);
    if (!resp)
      br = resp.error();
    else if (kind == BatchKind::delete_messages)
      br = sqs::parse_delete_message_batch_response(*resp, diag);
    else if (kind == BatchKind::change_visibility)
      br = sqs::parse_change_message_visibility_batch_response(*resp, diag);
    else
      br = sqs::parse_send_message_batch_response(*resp, diag);
    if (!br) {
      // The whole call failed after the client's own retries.
      if (attempt < options_.batch_retries && is_retryable(br.error())) continue;
      const std::string code = diag.aws_code.empty() ? br.error().message() : diag.aws_code;
      for (auto& e : entries) failures.push_back({e.name, code, diag.message, false});
      break;
    }
    std::vector<BatchItem> again;
    auto round = classify_batch_round(entries.size(), *br, attempt < options_.batch_retries);
    for (auto i : round.retry) again.push_back(entries[i]);
    for (auto& [i, f] : round.failed) {
      f.receipt_handle = entries[i].name;
      if (!round.unknown_ids.empty() && f.code == "MissingFromResponse")
        f.message += " (it named unknown ids instead, e.g. " + detail::quote_start(round.unknown_ids.front(), 40) + ")";
      failures.push_back(std::move(f));
    }
    entries = std::move(again);
  }
  co_return failures;
}

asio::awaitable<std::vector<BatchEntryFailure>> SqsSource::in_batches(BatchKind kind, std::vector<BatchItem> entries) {
  std::vector<BatchEntryFailure> failures;
  for (std::size_t i = 0; i < entries.size(); i += sqs::max_batch_entries) {
    const auto first = entries.begin() + static_cast<std::ptrdiff_t>(i);
    const auto last = entries.begin() + static_cast<std::ptrdiff_t>(std::min(entries.size(), i + sqs::max_batch_entries));
    auto f = co_await batch_call(kind, std::vector<BatchItem>(std::make_move_iterator(first), std::make_move_iterator(last)));
    failures.insert(failures.end(), f.begin(), f.end());
  }
  co_return failures;
}

// All three answer with the entries that failed for good; a call never fails as a whole (its
// entries do), so `diag` stays empty.
asio::awaitable<result<std::vector<BatchEntryFailure>>> SqsSource::async_delete(std::vector<std::string> handles,
                                                                                 Diagnostics& /*diag*/) {
  std::vector<BatchItem> entries;
  entries.reserve(handles.size());
  for (auto& h : handles) entries.push_back({h, std::chrono::seconds(0), h});
  co_return co_await in_batches(BatchKind::delete_messages, std::move(entries));
}

asio::awaitable<result<std::vector<BatchEntryFailure>>> SqsSource::async_send(std::vector<std::string> bodies,
                                                                               Diagnostics& /*diag*/) {
  std::vector<BatchItem> entries;
  entries.reserve(bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i)
    entries.push_back({std::move(bodies[i]), std::chrono::seconds(0), std::to_string(i)});
  co_return co_await in_batches(BatchKind::send_messages, std::move(entries));
}

asio::awaitable<result<std::vector<BatchEntryFailure>>> SqsSource::async_change_visibility(
    std::vector<VisibilityChange> changes, Diagnostics& /*diag*/) {
  std::vector<BatchItem> entries;
  entries.reserve(changes.size());
  for (auto& c : changes) entries.push_back({c.receipt_handle, c.timeout, c.receipt_handle});
  co_return co_await in_batches(BatchKind::change_visibility, std::move(entries));
}

}  // namespace ctsqs
