// The completion-token entry points of the top-level operations (Collector, AssembledCollector,
// Backfill, TrailVerifier, LedgerAudit, AwsClient::async_call, whoami, ledger init): each starts
// the operation's coroutine through run_completion.hpp and says what its error code is.
#include "ctsqs/aws/client.hpp"
#include "ctsqs/backfill/backfill.hpp"
#include "ctsqs/collector/collector.hpp"
#include "ctsqs/collector/assembly.hpp"
#include "ctsqs/integrity/trail_verifier.hpp"
#include "ctsqs/ledger/audit.hpp"
#include "ctsqs/ledger/open_ledger.hpp"

#include "detail/run_completion.hpp"

#include <boost/asio/error.hpp>

namespace ctsqs {

namespace asio = boost::asio;

namespace {

/// A collector run's error code: why it could not go on, else whether it was cancelled.
error_code collector_outcome(const CollectorResult& r, bool cancelled) {
  if (r.sink_error) return r.sink_error;
  if (r.receive_error) return r.receive_error;
  if (cancelled) return asio::error::operation_aborted;
  return {};
}

}  // namespace

void Collector::launch_run(completion_handler<CollectorResult> handler) {
  detail::launch_run(get_executor(), std::move(handler), async_run(), [this] { request_stop(); },
                     &collector_outcome);
}

void AssembledCollector::launch_run(completion_handler<CollectorResult> handler) {
  detail::launch_run(get_executor(), std::move(handler), async_run(), [this] { request_stop(); },
                     &collector_outcome);
}

void Backfill::launch_run(completion_handler<BackfillResult> handler) {
  detail::launch_run(get_executor(), std::move(handler), async_run(), [this] { request_stop(); },
                     [](const BackfillResult& r, bool cancelled) { return collector_outcome(r.collector, cancelled); });
}

namespace integrity {

void TrailVerifier::launch_run(completion_handler<VerifyResult> handler) {
  ctsqs::detail::launch_run(get_executor(), std::move(handler), async_run(), [this] { request_stop(); },
                            [](const VerifyResult&, bool cancelled) {
                              return cancelled ? error_code(asio::error::operation_aborted) : error_code();
                            });
}

}  // namespace integrity

void LedgerAudit::launch_run(completion_handler<AuditResult> handler) {
  detail::launch_run(get_executor(), std::move(handler), async_run(), [this] { request_stop(); },
                     [](const AuditResult& r, bool cancelled) { return collector_outcome(r.heal_result, cancelled); });
}

void AwsClient::launch_call(std::string service, HttpRequest req, CallOptions opts, Diagnostics& diag,
                            completion_handler<HttpResponse> handler) {
  detail::launch_call(get_executor(), std::move(handler),
                      async_call(std::move(service), std::move(req), std::move(opts), diag));
}

namespace detail {

void launch_get_caller_identity(AwsClient& client, Diagnostics& diag, completion_handler<sts::CallerIdentity> handler) {
  launch_call(client.get_executor(), std::move(handler), async_get_caller_identity(client, diag));
}

void launch_init_ledger(asio::any_io_executor executor, std::string location, std::chrono::seconds retention,
                        AwsClient* client, Diagnostics& diag, completion_handler<LedgerInitReport> handler) {
  launch_call(std::move(executor), std::move(handler), async_init_ledger(std::move(location), retention, client, diag));
}

}  // namespace detail
}  // namespace ctsqs
