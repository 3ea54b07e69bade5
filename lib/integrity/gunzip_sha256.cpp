// Gunzip + SHA-256 in bounded memory: streamed through the decoder's inflater (gzip::Stream:
// ISA-L, or zlib); OpenSSL EVP for the hash.
#include "ctsqs/integrity/gunzip_sha256.hpp"

#include "../detail/gzip_inflate.hpp"

#include <openssl/evp.h>

#include <algorithm>
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

struct GunzipSha256::Impl {
  gzip::Stream zs;
  bool ready = false;
  bool in_member = false;   // inside a gzip member (its end not seen yet)
  bool any_member = false;
  int magic_seen = 2;       // bytes of the next member's gzip magic checked (of 2)
  std::uint64_t compressed = 0;
  std::size_t keep_max;
  std::string kept;
  std::uint64_t size = 0;
  Sha256Stream sha;
  std::unique_ptr<char[]> out{new char[kOut]};
  static constexpr std::size_t kOut = 256 * 1024;
  explicit Impl(std::size_t k) : keep_max(k) { ready = zs.start(); }
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

}  // namespace

result<void> GunzipSha256::update(std::span<const std::byte> in, Diagnostics& diag) {
  const char* data = reinterpret_cast<const char*>(in.data());
  std::size_t n = in.size();
  while (n > 0) {
    const std::size_t len = std::min(n, gzip::Stream::max_input);
    if (auto r = stream(std::as_bytes(std::span(data, len)), diag); !r) return r;
    data += len;
    n -= len;
  }
  return {};
}

// One piece of at most gzip::Stream::max_input bytes, through the inflater the decoder uses
// (lib/detail/gzip_inflate.hpp: ISA-L or zlib, as built).
result<void> GunzipSha256::stream(std::span<const std::byte> in, Diagnostics& diag) {
  auto& m = *impl_;
  if (!m.ready) {
    diag.message = "the inflater could not be initialised";
    return make_error_code(client_errc::invalid_argument);
  }
  const char* data = reinterpret_cast<const char*>(in.data());
  const std::size_t n = in.size();
  const std::uint64_t base = m.compressed;
  m.compressed += n;
  m.zs.input(data, n);
  while (m.zs.avail_in() > 0) {
    if (!m.in_member) {
      // A new member starts (the first, or one after another: concatenated gzip).
      if (m.any_member && !m.zs.start()) {
        diag.message = "the inflater could not be initialised";
        return make_error_code(client_errc::invalid_argument);
      }
      m.in_member = true;
      m.any_member = true;
      m.magic_seen = 0;
    }
    // Every member starts with the gzip magic: said at once (ISA-L reads a whole header first).
    for (std::size_t i = n - m.zs.avail_in(); m.magic_seen < 2 && i < n; ++i, ++m.magic_seen)
      if (static_cast<unsigned char>(data[i]) != (m.magic_seen == 0 ? 0x1f : 0x8b)) {
        diag.message = "not gzip (at compressed byte " + std::to_string(base + i) + ")";
        return make_error_code(client_errc::invalid_argument);
      }
    gzip::Stream::Status st;
    std::size_t produced = 0;
    do {
      st = m.zs.run(m.out.get(), Impl::kOut, produced);
      if (produced > 0)
        if (auto r = take(std::string_view(m.out.get(), produced), m.sha, m.size, m.kept, m.keep_max, diag); !r) return r;
      if (st == gzip::Stream::Status::error) {
        diag.message = "not gzip or corrupt (" + m.zs.message() + ")";
        return make_error_code(client_errc::invalid_argument);
      }
      if (st == gzip::Stream::Status::member_end) {
        m.in_member = false;
        break;
      }
    } while (produced == Impl::kOut);
    if (st == gzip::Stream::Status::more) break;  // all input used
  }
  return {};
}

result<std::string> GunzipSha256::finish(Diagnostics& diag) {
  auto& m = *impl_;
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
