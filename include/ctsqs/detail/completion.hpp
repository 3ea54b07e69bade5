// Completion-token glue of the public asynchronous operations: the header templates hand a
// type-erased handler to a compiled function, so the coroutines stay in lib/.
#pragma once

#include "ctsqs/error.hpp"

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/async_result.hpp>

#include <utility>

namespace ctsqs {

/// The type-erased completion handler of an operation that completes with `void(error_code, R)`.
template <class R>
using completion_handler = boost::asio::any_completion_handler<void(error_code, R)>;

namespace detail {

/// `async_initiate<Token, void(error_code, R)>` whose initiation hands the handler, type-erased,
/// to `launch` (a callable taking `completion_handler<R>`). With a deferred token, `launch` runs
/// when the deferred operation is started.
template <class R, class CompletionToken, class Launch>
auto initiate_erased(CompletionToken&& token, Launch launch) {
  return boost::asio::async_initiate<CompletionToken, void(error_code, R)>(
      [](auto handler, Launch l) { l(completion_handler<R>(std::move(handler))); }, token, std::move(launch));
}

}  // namespace detail
}  // namespace ctsqs
