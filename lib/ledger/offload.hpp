// Private helper of the ledgers: run blocking work on a thread pool and resume the awaiting
// coroutine on its own executor with the result.
#pragma once

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
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
    auto ex = asio::get_associated_executor(handler);
    asio::post(pool, [handler = std::move(handler), fn = std::move(fn), ex]() mutable {
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
