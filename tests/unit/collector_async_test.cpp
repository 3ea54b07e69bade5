// The collector's counting semaphore with a capacity that changes while units are held (the
// adaptive objects-in-flight limit): growing wakes waiters at once; shrinking takes free units
// back and swallows held ones as they are released.
#include "../../lib/collector_async.hpp"

#include "catch.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

using ctsqs::detail::AsyncSemaphore;
namespace asio = boost::asio;

TEST_CASE("AsyncSemaphore capacity grows and shrinks under holders", "[collector_async]") {
  asio::io_context ioc;
  AsyncSemaphore sem(ioc.get_executor(), 2);
  REQUIRE(sem.try_acquire());
  REQUIRE(sem.try_acquire());
  int granted = 0;
  for (int i = 0; i < 3; ++i)
    asio::co_spawn(ioc, [&]() -> asio::awaitable<void> { granted += co_await sem.acquire() ? 1 : 0; }, asio::detached);
  ioc.poll();
  CHECK(granted == 0);  // two held, three waiting

  sem.set_capacity(4);  // two more units: two waiters run now
  ioc.poll();
  CHECK(granted == 2);
  CHECK(sem.capacity() == 4);

  sem.set_capacity(1);  // four held, one waiting: three units must be swallowed on release
  sem.release(3);
  ioc.poll();
  CHECK(granted == 2);  // still over capacity: nobody new runs
  CHECK(sem.available() == 0);
  sem.release();  // the last of the old holders: now one unit is free for the waiter
  ioc.poll();
  CHECK(granted == 3);
  sem.release();
  CHECK(sem.available() == 1);
  CHECK(sem.try_acquire());  // exactly the one unit of capacity 1
  CHECK_FALSE(sem.try_acquire());
}
