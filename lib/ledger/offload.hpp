// Private helper of the ledgers: run blocking work on a thread pool and resume the awaiting
// coroutine on its own executor with the result.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <functional>
#include <utility>

namespace ctsqs::detail {

/// Runs `work` on `pool`; the awaiting coroutine resumes on its executor with the value.
template <class T>
boost::asio::awaitable<T> offload(boost::asio::thread_pool& pool, std::function<T()> work) {
  namespace asio = boost::asio;
  // Not a lambda inside the co_await expression (g++ 12 miscompiles captures there).
  auto initiate = [&pool](auto handler, std::function<T()> fn) {
    // The loop's executor counts this as outstanding work until the job's function object is
    // destroyed, after its post to the loop returned: the loop's run() cannot return, and its
    // io_context be destroyed, while this pool thread is still inside that post (ThreadSanitizer
    // saw the loop's condition variable destroyed under a pool thread's pthread_cond_signal).
    auto ex = asio::prefer(asio::get_associated_executor(handler), asio::execution::outstanding_work.tracked);
    asio::post(pool, [handler = std::move(handler), fn = std::move(fn), ex = std::move(ex)]() mutable {
      T value = fn();
      asio::post(ex, [handler = std::move(handler), value = std::move(value)]() mutable {
        std::move(handler)(std::move(value));
      });
    });
  };
  T value = co_await asio::async_initiate<const asio::use_awaitable_t<>&, void(T)>(std::move(initiate),
                                                                                   asio::use_awaitable, std::move(work));
  co_return value;
}

}  // namespace ctsqs::detail
