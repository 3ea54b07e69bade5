// credential_process: run the profile's command, read the credentials JSON it prints.
#include "ctsqs/aws/credentials/process.hpp"

#include "credentials_json.hpp"
#include "ctsqs/aws/error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char** environ;

namespace ctsqs {
namespace asio = boost::asio;

namespace {

/// What one run of the command gave. stdout holds secrets: it never goes into a message.
struct ProcessRun {
  std::string spawn_error;  ///< non-empty: the command could not be started
  bool timed_out = false;
  bool output_too_large = false;
  int exit_status = -1;     ///< exit code, or -1 when killed by a signal
  int signal = 0;
  std::string out;
  std::string err;          ///< the first bytes of stderr, for the message
};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

ProcessRun run_blocking(const std::string& command, const ProcessCredentialsOptions& o,
                        const std::atomic<bool>& abandoned) {
  ProcessRun r;
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    r.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  Fd out_r(out_pipe[0]), out_w(out_pipe[1]);
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    r.spawn_error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  Fd err_r(err_pipe[0]), err_w(err_pipe[1]);

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&attr);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, err_w.get(), 2);
  // Nothing else: not the metrics listener, pooled AWS/Devo connections or open files, whether
  // or not whoever opened them asked for close-on-exec (Asio sockets do not).
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // Its own process group, so a timeout kills whatever the shell started too.
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);
  std::string sh = "/bin/sh", dash_c = "-c", cmd = command;
  char* argv[] = {sh.data(), dash_c.data(), cmd.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  out_w.reset();
  err_w.reset();
  if (rc != 0) {
    r.spawn_error = std::string("cannot start /bin/sh: ") + std::strerror(rc);
    return r;
  }

  const auto deadline = std::chrono::steady_clock::now() + o.timeout;
  bool out_open = true, err_open = true;
  char buf[4096];
  while (out_open || err_open) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || abandoned) {
      r.timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_open ? out_r.get() : -1, POLLIN, 0}, {err_open ? err_r.get() : -1, POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
    if (n < 0 && errno != EINTR) break;
    if (n <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      if (i == 0) {
        if (r.out.size() + static_cast<std::size_t>(got) > o.max_output) {
          r.output_too_large = true;
          out_open = err_open = false;
          break;
        }
        r.out.append(buf, static_cast<std::size_t>(got));
      } else if (r.err.size() < 4096) {
        r.err.append(buf, std::min<std::size_t>(static_cast<std::size_t>(got), 4096 - r.err.size()));
      }
    }
  }
  // A command that closed its output may still run: wait for it until the same deadline.
  int status = 0;
  bool killed = false;
  for (;;) {
    if ((r.timed_out || r.output_too_large || abandoned || std::chrono::steady_clock::now() >= deadline) && !killed) {
      if (!r.output_too_large) r.timed_out = true;
      ::kill(-pid, SIGKILL);
      killed = true;
    }
    const pid_t w = ::waitpid(pid, &status, killed ? 0 : WNOHANG);
    if (w == pid || (w < 0 && errno != EINTR)) break;
    if (w == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
  else if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  return r;
}

/// The first line of what the command wrote to stderr, trimmed and bounded, for a message.
std::string first_line(std::string_view s) {
  while (!s.empty() && (s.front() == '\n' || s.front() == '\r' || s.front() == ' ')) s.remove_prefix(1);
  s = s.substr(0, s.find_first_of("\r\n"));
  if (s.size() > 300) return std::string(s.substr(0, 300)) + "...";
  return std::string(s);
}

}  // namespace

result<Credentials> parse_process_credentials_json(std::string_view out, std::string_view what, Diagnostics& diag) {
  return detail::parse_credentials_document(out, what, {"SessionToken", "output", false, true}, diag);
}

asio::awaitable<result<Credentials>> async_credential_process(asio::any_io_executor executor, std::string command,
                                                              std::string profile, ProcessCredentialsOptions options,
                                                              Diagnostics& diag) {
  const std::string what = "profile '" + profile + "': credential_process";
  // The command runs on a thread of its own (it blocks for as long as it takes). The thread never
  // touches the executor, which may be gone before it ends: it fills a shared state that this
  // coroutine polls. If the coroutine goes first (shutdown), the state tells the thread to kill
  // the command.
  struct State {
    std::mutex mu;
    bool done = false;
    ProcessRun run;
    std::atomic<bool> abandoned{false};
  };
  auto state = std::make_shared<State>();
  struct Abandon {
    std::shared_ptr<State> s;
    ~Abandon() { s->abandoned = true; }
  } abandon{state};
  std::thread([state, command, options] {
    ProcessRun r = run_blocking(command, options, state->abandoned);
    std::lock_guard lk(state->mu);
    state->run = std::move(r);
    state->done = true;
  }).detach();
  asio::steady_timer poll(executor);
  for (;;) {
    {
      std::lock_guard lk(state->mu);
      if (state->done) break;
    }
    poll.expires_after(std::chrono::milliseconds(20));
    auto [ec] = co_await poll.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) {
      diag.message = what + ": cancelled";
      co_return make_error_code(client_errc::cancelled);
    }
  }
  ProcessRun run = std::move(state->run);
  if (!run.spawn_error.empty()) {
    diag.message = what + ": " + run.spawn_error;
    co_return make_error_code(client_errc::io_error);
  }
  if (run.timed_out) {
    diag.message = what + " did not finish within " + std::to_string(options.timeout.count() / 1000) +
                   " s and was killed";
    co_return make_error_code(client_errc::timeout);
  }
  if (run.output_too_large) {
    diag.message = what + " printed more than " + std::to_string(options.max_output) + " bytes and was killed";
    co_return make_error_code(aws_errc::malformed_response);
  }
  if (run.exit_status != 0) {
    const std::string err = first_line(run.err);
    diag.message = what + (run.signal ? " was killed by signal " + std::to_string(run.signal)
                                      : " exited with status " + std::to_string(run.exit_status)) +
                   (err.empty() ? "" : ": " + err);
    co_return make_error_code(client_errc::invalid_argument);
  }
  auto c = parse_process_credentials_json(run.out, what, diag);
  if (!c) co_return c.error();
  c->provider = "profile " + profile + " credential_process";
  co_return std::move(*c);
}

}  // namespace ctsqs
