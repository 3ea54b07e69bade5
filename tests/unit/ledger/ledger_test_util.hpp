// Test helper: run one awaitable to completion on a private io_context.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <exception>
#include <optional>

namespace ctsqs::test {

template <class T>
T run_awaitable(boost::asio::awaitable<T> a) {
  boost::asio::io_context io;
  std::optional<T> out;
  std::exception_ptr thrown;
  boost::asio::co_spawn(io, std::move(a), [&](std::exception_ptr e, T v) {
    thrown = e;
    if (!e) out.emplace(std::move(v));
  });
  io.run();
  if (thrown) std::rethrow_exception(thrown);
  return std::move(*out);
}

}  // namespace ctsqs::test
