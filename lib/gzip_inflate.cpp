// The decoder's gzip layer (lib/detail/gzip_inflate.hpp): ISA-L, libdeflate or zlib behind one
// streaming and one whole-buffer interface, chosen at build time by CTSQS_INFLATE.
#include "detail/gzip_inflate.hpp"

#if CTSQS_INFLATE_ISAL
#include <isa-l/igzip_lib.h>
#else
#include <zlib.h>
#endif
#if CTSQS_INFLATE_LIBDEFLATE
#include <libdeflate.h>
#endif

#include <cstring>

namespace ctsqs::gzip {

std::string_view whole_backend() noexcept {
#if CTSQS_INFLATE_ISAL
  return "isal";
#elif CTSQS_INFLATE_LIBDEFLATE
  return "libdeflate";
#else
  return "zlib";
#endif
}

std::string_view stream_backend() noexcept {
#if CTSQS_INFLATE_ISAL
  return "isal";
#else
  return "zlib";
#endif
}

#if CTSQS_INFLATE_ISAL
namespace {

const char* isal_message(int r) {
  switch (r) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
    case ISAL_NEED_DICT: return "a preset dictionary is needed";
    default: return "isa-l error";
  }
}

// ISA-L's AVX-512 inflate returns with the upper halves of the vector registers dirty (no
// vzeroupper): every legacy-SSE instruction after it (the JSON parser's, memcpy's) then pays a
// state-transition penalty. Clear them after each call, on CPUs that have them.
inline void clean_upper_vectors() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool avx = __builtin_cpu_supports("avx");
  if (avx) asm volatile("vzeroupper" ::: "memory");
#endif
}

int inflate_call(inflate_state& st) {
  const int r = isal_inflate(&st);
  clean_upper_vectors();
  return r;
}

void start_gzip(inflate_state& st) {
  isal_inflate_init(&st);
  st.crc_flag = ISAL_GZIP;
}

}  // namespace

struct Stream::Impl {
  inflate_state st{};
  int last = 0;
};

Stream::Stream() : impl_(std::make_unique<Impl>()) {}
Stream::~Stream() = default;

bool Stream::start() {
  // isal_inflate_init forgets the input: the rest of it is the next member's.
  inflate_state& st = impl_->st;
  std::uint8_t* next = st.next_in;
  const std::uint32_t avail = st.avail_in;
  start_gzip(st);
  st.next_in = next;
  st.avail_in = avail;
  impl_->last = 0;
  return true;
}

void Stream::input(const char* data, std::size_t n) noexcept {
  impl_->st.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(data));
  impl_->st.avail_in = static_cast<std::uint32_t>(n);
}

std::size_t Stream::avail_in() const noexcept { return impl_->st.avail_in; }

Stream::Status Stream::run(char* out, std::size_t cap, std::size_t& produced) {
  inflate_state& st = impl_->st;
  st.next_out = reinterpret_cast<std::uint8_t*>(out);
  st.avail_out = static_cast<std::uint32_t>(cap);
  const int r = inflate_call(st);
  produced = cap - st.avail_out;
  if (r < 0 || r == ISAL_NEED_DICT) {
    impl_->last = r;
    return Status::error;
  }
  // At a member's end ISA-L has handed back the input after its trailer (avail_in).
  return st.block_state == ISAL_BLOCK_FINISH ? Status::member_end : Status::more;
}

std::string Stream::message() const { return isal_message(impl_->last); }

struct Whole::Impl {
  inflate_state st{};
};

Whole::Whole() : impl_(std::make_unique<Impl>()) {}
Whole::~Whole() = default;

Whole::Status Whole::member(const unsigned char* in, std::size_t n, char* out, std::size_t cap,
                            std::size_t& in_used, std::size_t& out_used) {
  if (n > Stream::max_input || cap > Stream::max_input) return Status::unavailable;
  inflate_state& st = impl_->st;
  start_gzip(st);
  st.next_in = const_cast<std::uint8_t*>(in);
  st.avail_in = static_cast<std::uint32_t>(n);
  st.next_out = reinterpret_cast<std::uint8_t*>(out);
  st.avail_out = static_cast<std::uint32_t>(cap);
  const int r = inflate_call(st);
  if (r < 0 || r == ISAL_NEED_DICT) return Status::error;
  if (st.block_state == ISAL_BLOCK_FINISH) {
    in_used = n - st.avail_in;
    out_used = cap - st.avail_out;
    return Status::ok;
  }
  return st.avail_out == 0 ? Status::no_space : Status::error;
}

#else  // zlib streams

struct Stream::Impl {
  z_stream zs{};
  bool ready = false;
  ~Impl() {
    if (ready) inflateEnd(&zs);
  }
};

Stream::Stream() : impl_(std::make_unique<Impl>()) {}
Stream::~Stream() = default;

bool Stream::start() {
  if (impl_->ready) return inflateReset(&impl_->zs) == Z_OK;
  impl_->zs = z_stream{};
  impl_->ready = inflateInit2(&impl_->zs, 15 + 16) == Z_OK;
  return impl_->ready;
}

void Stream::input(const char* data, std::size_t n) noexcept {
  impl_->zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
  impl_->zs.avail_in = static_cast<uInt>(n);
}

std::size_t Stream::avail_in() const noexcept { return impl_->zs.avail_in; }

Stream::Status Stream::run(char* out, std::size_t cap, std::size_t& produced) {
  z_stream& zs = impl_->zs;
  zs.next_out = reinterpret_cast<Bytef*>(out);
  zs.avail_out = static_cast<uInt>(cap);
  const int r = inflate(&zs, Z_NO_FLUSH);
  produced = cap - zs.avail_out;
  if (r == Z_STREAM_END) return Status::member_end;
  if (r == Z_OK || r == Z_BUF_ERROR) return Status::more;
  return Status::error;
}

std::string Stream::message() const { return impl_->zs.msg ? impl_->zs.msg : "zlib error"; }

#if CTSQS_INFLATE_LIBDEFLATE
struct Whole::Impl {
  libdeflate_decompressor* ld = libdeflate_alloc_decompressor();
  ~Impl() {
    if (ld) libdeflate_free_decompressor(ld);
  }
};
#else
struct Whole::Impl {};
#endif

Whole::Whole() : impl_(std::make_unique<Impl>()) {}
Whole::~Whole() = default;

Whole::Status Whole::member([[maybe_unused]] const unsigned char* in, [[maybe_unused]] std::size_t n,
                            [[maybe_unused]] char* out, [[maybe_unused]] std::size_t cap,
                            [[maybe_unused]] std::size_t& in_used,
                            [[maybe_unused]] std::size_t& out_used) {
#if CTSQS_INFLATE_LIBDEFLATE
  if (!impl_->ld) return Status::unavailable;
  const auto r = libdeflate_gzip_decompress_ex(impl_->ld, in, n, out, cap, &in_used, &out_used);
  if (r == LIBDEFLATE_SUCCESS) return Status::ok;
  if (r == LIBDEFLATE_INSUFFICIENT_SPACE) return Status::no_space;
  return Status::error;
#else
  return Status::unavailable;
#endif
}

#endif

}  // namespace ctsqs::gzip
