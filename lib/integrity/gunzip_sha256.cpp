// Gunzip + SHA-256 in bounded memory: small objects gathered and inflated in one go (libdeflate,
// faster), larger ones streamed through zlib; OpenSSL EVP for the hash.
#include "ctsqs/integrity/gunzip_sha256.hpp"

#include <libdeflate.h>
#include <openssl/evp.h>
#include <zlib.h>

#include <array>
#include <memory>

namespace ctsqs::integrity {

struct Sha256Stream::Impl {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  Impl() { EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr); }
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Sha256Stream::Sha256Stream() : impl_(std::make_unique<Impl>()) {}
Sha256Stream::~Sha256Stream() = default;
Sha256Stream::Sha256Stream(Sha256Stream&&) noexcept = default;
Sha256Stream& Sha256Stream::operator=(Sha256Stream&&) noexcept = default;

void Sha256Stream::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size());
}
void Sha256Stream::update(std::string_view bytes) { EVP_DigestUpdate(impl_->ctx, bytes.data(), bytes.size()); }

std::string Sha256Stream::finish_hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(impl_->ctx, md, &n);
  EVP_DigestInit_ex(impl_->ctx, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (unsigned i = 0; i < n; ++i) {
    out += hex[md[i] >> 4];
    out += hex[md[i] & 15];
  }
  return out;
}

namespace {
// Objects up to this many compressed bytes are gathered and inflated whole (when their
// uncompressed size is at most whole_max); beyond, the gathered bytes are streamed.
constexpr std::size_t gather_max = std::size_t{4} << 20;
constexpr std::size_t whole_max = std::size_t{32} << 20;
}  // namespace

struct GunzipSha256::Impl {
  z_stream zs{};
  bool init = false;
  bool streaming = false;   // past gathering: every byte goes through zlib
  std::string gathered;     // compressed bytes while gathering
  bool in_member = false;   // inside a gzip member (its end not seen yet)
  bool any_member = false;
  std::size_t keep_max;
  std::string kept;
  std::uint64_t size = 0;
  Sha256Stream sha;
  std::array<unsigned char, 64 * 1024> out{};
  explicit Impl(std::size_t k) : keep_max(k) {
    init = inflateInit2(&zs, 15 + 16) == Z_OK;
  }
  ~Impl() {
    if (init) inflateEnd(&zs);
  }
};

GunzipSha256::GunzipSha256(std::size_t keep_max) : impl_(std::make_unique<Impl>(keep_max)) {}
GunzipSha256::~GunzipSha256() = default;

namespace {

/// Hashes (and keeps) uncompressed bytes.
result<void> take(std::string_view chunk, Sha256Stream& sha, std::uint64_t& size, std::string& kept, std::size_t keep_max,
                  Diagnostics& diag) {
  sha.update(chunk);
  size += chunk.size();
  if (keep_max > 0) {
    if (kept.size() + chunk.size() > keep_max) {
      diag.message = "more than " + std::to_string(keep_max) + " uncompressed bytes";
      return make_error_code(client_errc::limit_exceeded);
    }
    kept.append(chunk);
  }
  return {};
}

/// Inflates a whole gzip object (several members too) with libdeflate into `out`; false when it
/// is larger than whole_max or libdeflate refuses it (the caller streams it then, with zlib's
/// error messages).
bool inflate_whole(const std::string& in, std::string& out) {
  const std::size_t n = in.size();
  if (n < 18) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(in.data());
  const std::uint32_t isize = static_cast<std::uint32_t>(p[n - 4]) | static_cast<std::uint32_t>(p[n - 3]) << 8 |
                              static_cast<std::uint32_t>(p[n - 2]) << 16 | static_cast<std::uint32_t>(p[n - 1]) << 24;
  if (isize > whole_max) return false;
  std::unique_ptr<libdeflate_decompressor, decltype(&libdeflate_free_decompressor)> ld(libdeflate_alloc_decompressor(),
                                                                                      libdeflate_free_decompressor);
  if (!ld) return false;
  std::size_t cap = std::max<std::size_t>(isize, 4096), len = 0, pos = 0;
  out.resize(cap);
  while (pos < n) {
    std::size_t in_used = 0, out_used = 0;
    const auto r = libdeflate_gzip_decompress_ex(ld.get(), p + pos, n - pos, out.data() + len, cap - len, &in_used, &out_used);
    if (r == LIBDEFLATE_INSUFFICIENT_SPACE) {
      if (cap >= whole_max) return false;
      cap = std::min(whole_max, cap * 2);
      out.resize(cap);
      continue;
    }
    if (r != LIBDEFLATE_SUCCESS) return false;
    pos += in_used;
    len += out_used;
  }
  out.resize(len);
  return true;
}

}  // namespace

result<void> GunzipSha256::update(std::span<const std::byte> in, Diagnostics& diag) {
  auto& m = *impl_;
  if (!m.streaming) {
    if (m.gathered.size() + in.size() <= gather_max) {
      m.gathered.append(reinterpret_cast<const char*>(in.data()), in.size());
      return {};
    }
    m.streaming = true;
    std::string g = std::move(m.gathered);
    m.gathered = std::string();
    if (auto r = stream(std::as_bytes(std::span(g.data(), g.size())), diag); !r) return r;
  }
  return stream(in, diag);
}

result<void> GunzipSha256::stream(std::span<const std::byte> in, Diagnostics& diag) {
  auto& m = *impl_;
  if (!m.init) {
    diag.message = "zlib could not be initialised";
    return make_error_code(client_errc::invalid_argument);
  }
  m.zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  m.zs.avail_in = static_cast<uInt>(in.size());
  bool pending = false;  // the last inflate filled the output buffer: more may be waiting in zlib
  while (m.zs.avail_in > 0 || pending) {
    if (!m.in_member) {
      // A new member starts (the first, or one after another: concatenated gzip).
      if (m.any_member) inflateReset(&m.zs);
      m.in_member = true;
      m.any_member = true;
    }
    m.zs.next_out = m.out.data();
    m.zs.avail_out = static_cast<uInt>(m.out.size());
    const int rc = inflate(&m.zs, Z_NO_FLUSH);
    const std::size_t produced = m.out.size() - m.zs.avail_out;
    pending = m.zs.avail_out == 0;
    if (produced > 0) {
      const std::string_view chunk(reinterpret_cast<const char*>(m.out.data()), produced);
      if (auto r = take(chunk, m.sha, m.size, m.kept, m.keep_max, diag); !r) return r;
    }
    if (rc == Z_STREAM_END) {
      m.in_member = false;
      pending = false;
      continue;
    }
    if (rc == Z_BUF_ERROR && produced == 0 && m.zs.avail_in == 0) break;
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      diag.message = std::string("not gzip or corrupt (") + (m.zs.msg ? m.zs.msg : "zlib error " + std::to_string(rc)) + ")";
      return make_error_code(client_errc::invalid_argument);
    }
  }
  return {};
}

result<std::string> GunzipSha256::finish(Diagnostics& diag) {
  auto& m = *impl_;
  if (!m.streaming) {
    // Gathered whole: one libdeflate inflate; if it cannot, zlib streams it (and says why).
    std::string out;
    if (inflate_whole(m.gathered, out)) {
      if (auto r = take(out, m.sha, m.size, m.kept, m.keep_max, diag); !r) return r.error();
      m.gathered = std::string();
      return m.sha.finish_hex();
    }
    m.streaming = true;
    std::string g = std::move(m.gathered);
    m.gathered = std::string();
    if (auto r = stream(std::as_bytes(std::span(g.data(), g.size())), diag); !r) return r.error();
  }
  if (!m.any_member) {
    diag.message = "empty object (no gzip data)";
    return make_error_code(client_errc::invalid_argument);
  }
  if (m.in_member) {
    diag.message = "the gzip data ends early (truncated)";
    return make_error_code(client_errc::invalid_argument);
  }
  return m.sha.finish_hex();
}

const std::string& GunzipSha256::kept() const noexcept { return impl_->kept; }
std::uint64_t GunzipSha256::uncompressed_size() const noexcept { return impl_->size; }

}  // namespace ctsqs::integrity
