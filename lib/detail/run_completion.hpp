// Starts a library coroutine for a completion-token operation: co_spawn on the object's
// executor, the handler's cancellation slot wired to a graceful stop (runs) or into the
// coroutine (single calls), the outcome delivered as `void(error_code, R)`.
#pragma once

#include "ctsqs/detail/completion.hpp"
#include "ctsqs/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <utility>

namespace ctsqs::detail {

/// Whether a cancellation of `type` stops a run: terminal and partial do (a graceful stop leaves
/// a well-known state: delivered work acknowledged, the rest released); total alone does not
/// (what a run already delivered cannot be undone).
inline bool stops_run(boost::asio::cancellation_type type) noexcept {
  using ct = boost::asio::cancellation_type;
  return (type & (ct::terminal | ct::partial)) != ct::none;
}

/// An exception that escaped the coroutine: a system_error becomes its code; anything else (a
/// bug, bad_alloc) is rethrown from the completion, out of the executor's run(), as an exception
/// from any handler is.
inline error_code code_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const boost::system::system_error& se) {
    return se.code();
  }
}

/// A long run (a collector, a backfill, a verification): `run` is co_spawned on `ex`; a terminal
/// or partial cancellation through the handler's slot calls `stop()` (request_stop: the normal
/// grace); on completion `outcome(result, cancelled)` gives the error code. The slot is cleared
/// before the handler is called.
template <class R, class Stop, class Outcome>
void launch_run(boost::asio::any_io_executor ex, completion_handler<R> handler, boost::asio::awaitable<R> run,
                Stop stop, Outcome outcome) {
  namespace asio = boost::asio;
  auto slot = asio::get_associated_cancellation_slot(handler);
  auto cancelled = std::make_shared<std::atomic<bool>>(false);
  if (slot.is_connected())
    slot.assign([cancelled, stop](asio::cancellation_type type) mutable {
      if (!stops_run(type)) return;
      cancelled->store(true);
      stop();
    });
  auto handler_ex = asio::get_associated_executor(handler, ex);
  asio::co_spawn(ex, std::move(run),
                 asio::bind_executor(handler_ex, [handler = std::move(handler), slot, cancelled, outcome](
                                                     std::exception_ptr e, R r) mutable {
                   if (slot.is_connected()) slot.clear();
                   const error_code ec = e ? code_of(e) : outcome(r, cancelled->load());
                   std::move(handler)(ec, std::move(r));
                 }));
}

/// A single call returning `result<T>`: co_spawned on `ex`; a cancellation through the handler's
/// slot is forwarded into the coroutine, where the operation awaited at that moment ends (the
/// coroutine's filter lets terminal cancellation through, partial and total alone are ignored)
/// and the call completes with operation_aborted (whatever error the cut produced). An error
/// result becomes the error code with a default-constructed T.
template <class T>
void launch_call(boost::asio::any_io_executor ex, completion_handler<T> handler,
                 boost::asio::awaitable<result<T>> call) {
  namespace asio = boost::asio;
  auto slot = asio::get_associated_cancellation_slot(handler);
  // The coroutine's cancellation handler lives in a signal of our own, kept until the
  // completion is done with, so clearing the caller's slot never frees what the coroutine uses.
  auto signal = std::make_shared<asio::cancellation_signal>();
  auto cancelled = std::make_shared<bool>(false);
  if (slot.is_connected())
    slot.assign([signal, cancelled](asio::cancellation_type type) {
      if ((type & asio::cancellation_type::terminal) != asio::cancellation_type::none) *cancelled = true;
      signal->emit(type);
    });
  auto handler_ex = asio::get_associated_executor(handler, ex);
  asio::co_spawn(ex, std::move(call),
                 asio::bind_cancellation_slot(
                     signal->slot(),
                     asio::bind_executor(handler_ex, [handler = std::move(handler), slot, signal, cancelled](
                                                         std::exception_ptr e, result<T> r) mutable {
                       if (slot.is_connected()) slot.clear();
                       if (*cancelled && (e || !r)) return std::move(handler)(asio::error::operation_aborted, T{});
                       if (e) return std::move(handler)(code_of(e), T{});
                       if (!r) return std::move(handler)(r.error(), T{});
                       std::move(handler)(error_code{}, std::move(*r));
                     })));
}

}  // namespace ctsqs::detail
